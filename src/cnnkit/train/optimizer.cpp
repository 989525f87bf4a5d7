#include "cnnkit/train/optimizer.h"

#include <torch/torch.h>

#include <set>

#include "cnnkit/core/strings.h"

namespace cnnkit {
namespace {

constexpr const char* kDefaultOptimizer = "adam";
const std::vector<std::string> kCommonKeys = {"type", "lr", "weight_decay", "lr_batch_size", "groups"};
const std::vector<std::string> kGroupNames = {"norm", "bias"};

// "groups": {"norm": {"lr_scale", "weight_decay"}, "bias": {...}} with defaults filled in.
json resolve_groups(const ConfigView& v, double weight_decay) {
  v.require_object();
  v.check_keys(kGroupNames);
  json out = json::object();
  for (const auto& name : kGroupNames) {
    auto g = v.find(name);
    if (!g) continue;
    g->require_object();
    g->check_keys({"lr_scale", "weight_decay"});
    out[name] = {{"lr_scale", g->has("lr_scale") ? g->at("lr_scale").as_double_in(0.0, 1e6, false, true) : 1.0},
                 {"weight_decay", g->has("weight_decay") ? g->at("weight_decay").as_double_in(0.0, 1.0) : weight_decay}};
  }
  return out;
}

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
  if (auto x = v->find("lr_batch_size")) out["lr_batch_size"] = x->as_int(1, 1 << 20);
  if (auto x = v->find("groups")) out["groups"] = resolve_groups(*x, out["weight_decay"].get<double>());
  // The type sees only its own keys, at the section's pointer (errors name the right place).
  out.update(t.resolve(ConfigView(own, v->source_ptr(), v->pointer())));
  return out;
}

std::vector<ParamGroup> parameter_groups(torch::nn::Module& net, const json& resolved) {
  const json groups = resolved.value("groups", json::object());
  std::set<const void*> norm, bias;
  for (const auto& m : net.modules(/*include_self=*/true)) {
    auto add = [](std::set<const void*>& to, const torch::Tensor& t) {
      if (t.defined()) to.insert(t.unsafeGetTensorImpl());
    };
    if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
      add(norm, bn->weight);
      add(norm, bn->bias);
    } else if (auto* bn1 = m->as<torch::nn::BatchNorm1d>()) {
      add(norm, bn1->weight);
      add(norm, bn1->bias);
    } else if (auto* conv = m->as<torch::nn::Conv2d>()) {
      add(bias, conv->bias);
    } else if (auto* lin = m->as<torch::nn::Linear>()) {
      add(bias, lin->bias);
    }
  }
  const double wd = resolved.at("weight_decay").get<double>();
  std::vector<ParamGroup> out = {{"default", {}, 1.0, wd}};
  for (const auto& name : kGroupNames) {
    if (!groups.contains(name)) continue;
    out.push_back({name, {}, groups[name].at("lr_scale").get<double>(), groups[name].at("weight_decay").get<double>()});
  }
  auto group_of = [&](const std::string& name) -> ParamGroup& {
    for (auto& g : out)
      if (g.name == name) return g;
    return out.front();
  };
  for (const auto& p : net.parameters()) {
    if (!p.requires_grad()) continue;
    const void* id = p.unsafeGetTensorImpl();
    group_of(norm.count(id) ? "norm" : bias.count(id) ? "bias" : "default").params.push_back(p);
  }
  std::vector<ParamGroup> kept;
  for (auto& g : out)
    if (!g.params.empty()) kept.push_back(std::move(g));
  return kept;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(torch::nn::Module& net, const json& resolved,
                                                        std::vector<double>* lr_scales) {
  const OptimizerType& type = optimizer_registry().get(resolved.at("type").get<std::string>());
  const std::vector<ParamGroup> groups = parameter_groups(net, resolved);
  std::unique_ptr<torch::optim::Optimizer> opt = type.make({}, resolved);
  opt->param_groups().clear();
  if (lr_scales) lr_scales->clear();
  const double lr = resolved.at("lr").get<double>();
  for (const auto& g : groups) {
    // The type's own options for this group: the same settings with this group's rate and decay.
    json r = resolved;
    r["lr"] = lr * g.lr_scale;
    r["weight_decay"] = g.weight_decay;
    opt->add_param_group(torch::optim::OptimizerParamGroup(g.params, type.make({}, r)->defaults().clone()));
    if (lr_scales) lr_scales->push_back(g.lr_scale);
  }
  return opt;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<torch::Tensor>& params,
                                                        const json& resolved) {
  return optimizer_registry().get(resolved.at("type").get<std::string>()).make(params, resolved);
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr, const std::vector<double>& lr_scales) {
  auto& groups = optimizer.param_groups();
  for (std::size_t i = 0; i < groups.size(); ++i) groups[i].options().set_lr(lr * (i < lr_scales.size() ? lr_scales[i] : 1.0));
}

}  // namespace cnnkit
