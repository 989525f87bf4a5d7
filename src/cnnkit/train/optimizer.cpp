#include "cnnkit/train/optimizer.h"

#include "cnnkit/core/strings.h"

namespace cnnkit {
namespace {

constexpr const char* kDefaultOptimizer = "adam";
const std::vector<std::string> kCommonKeys = {"type", "lr", "weight_decay"};

// Types (other than `type`) that take `key`.
std::vector<std::string> types_taking(const std::string& key, const std::string& type) {
  std::vector<std::string> out;
  for (const auto& [name, t] : optimizer_registry().members()) {
    auto keys = t->keys();
    if (name != type && std::find(keys.begin(), keys.end(), key) != keys.end()) out.push_back(name);
  }
  return out;
}

}  // namespace

Registry<OptimizerType>& optimizer_registry() {
  static Registry<OptimizerType> registry("optimizer");
  return registry;
}

json resolve_optimizer(const std::optional<ConfigView>& v) {
  const std::string type =
      v ? v->get_choice("type", kDefaultOptimizer, optimizer_registry().names()) : kDefaultOptimizer;
  const OptimizerType& t = optimizer_registry().get(type);
  json out = {{"type", type}, {"lr", t.default_lr()}, {"weight_decay", t.default_weight_decay()}};
  if (!v) {
    static const json kEmpty = json::object();
    out.update(t.resolve(ConfigView(kEmpty, std::make_shared<ConfigSource>(), "/training/optimizer")));
    return out;
  }
  v->require_object();
  std::vector<std::string> valid = kCommonKeys;
  for (const auto& k : t.keys()) valid.push_back(k);
  json own = json::object();
  for (const auto& key : v->keys()) {
    if (std::find(valid.begin(), valid.end(), key) != valid.end()) {
      own[key] = v->json_value().at(key);
      continue;
    }
    auto others = types_taking(key, type);
    if (others.empty()) v->check_keys(valid);  // unknown everywhere: lists the valid keys
    if (v->source().stored) continue;          // older checkpoints stored every type's keys
    v->at(key).fail("'" + key + "' applies to " + join(others, ", ") + "; this optimizer is " + type);
  }
  if (auto x = v->find("lr")) out["lr"] = x->as_double_in(0.0, 10.0, false, true);
  if (auto x = v->find("weight_decay")) out["weight_decay"] = x->as_double_in(0.0, 1.0);
  // The type sees only its own keys, at the section's pointer (errors name the right place).
  out.update(t.resolve(ConfigView(own, v->source_ptr(), v->pointer())));
  return out;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<torch::Tensor>& params,
                                                        const json& resolved) {
  return optimizer_registry().get(resolved.at("type").get<std::string>()).make(params, resolved);
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace cnnkit
