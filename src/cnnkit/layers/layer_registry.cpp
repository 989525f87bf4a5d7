#include "cnnkit/layers/layer_registry.h"

#include <c10/util/Exception.h>

#include <atomic>
#include <regex>
#include <stdexcept>

#include "cnnkit/core/error.h"
#include "cnnkit/core/strings.h"

namespace cnnkit {

std::string ResolveContext::next_name(const std::string& type) {
  for (;;) {
    int n = counters[type]++;
    std::string name = n == 0 ? type : type + "_" + std::to_string(n);
    if (!used.count(name)) {
      used.insert(name);
      return name;
    }
  }
}

LayerRegistry& LayerRegistry::instance() {
  static LayerRegistry registry;
  return registry;
}

void LayerRegistry::add(std::unique_ptr<LayerType> type) {
  std::string key = type->type();
  if (types_.count(key)) throw std::logic_error("cnnkit: duplicate registration of layer type '" + key + "'");
  types_[key] = std::move(type);
}

const LayerType* LayerRegistry::find(const std::string& type) const {
  auto it = types_.find(type);
  return it == types_.end() ? nullptr : it->second.get();
}

std::vector<std::string> LayerRegistry::types() const {
  std::vector<std::string> out;
  for (const auto& [k, _] : types_) out.push_back(k);
  return out;
}

namespace {

const LayerType& lookup(const ConfigView& layer) {
  layer.require_object();
  ConfigView type_view = layer.at("type");
  std::string type = type_view.as_string();
  const LayerType* t = LayerRegistry::instance().find(type);
  if (!t) {
    auto known = LayerRegistry::instance().types();
    type_view.fail("unknown layer type '" + type + "'" + did_you_mean(type, known) +
                   "; known types: " + join(known, ", "));
  }
  return *t;
}

// Explicit names anywhere in the list (nested ones too), so generated names never take them.
void reserve_names(const json& list, ResolveContext& ctx) {
  if (!list.is_array()) return;
  for (const auto& layer : list) {
    if (!layer.is_object()) continue;
    auto it = layer.find("name");
    if (it != layer.end() && it->is_string()) ctx.used.insert(it->get<std::string>());
    auto nested = layer.find("layers");
    if (nested != layer.end()) reserve_names(*nested, ctx);
  }
}

}  // namespace

json resolve_layer(const ConfigView& layer, ResolveContext& ctx) {
  const LayerType& t = lookup(layer);
  std::vector<std::string> valid = {"type", "name"};
  for (const auto& k : t.keys()) valid.push_back(k);
  layer.check_keys(valid);

  std::string name;
  if (auto n = layer.find("name")) {
    name = n->as_string();
    static const std::regex kNamePattern("[A-Za-z][A-Za-z0-9_-]{0,63}");
    if (!std::regex_match(name, kNamePattern)) {
      n->fail("layer names start with a letter and use letters, digits, '_' and '-' (at most 64); got " +
              ConfigView::render(n->json_value()));
    }
    if (ctx.counters["#explicit:" + name]++ > 0) n->fail("duplicate layer name '" + name + "'");
  } else {
    name = ctx.next_name(t.type());
  }
  json params = t.resolve(layer, ctx);
  json out = json::object();
  out["type"] = t.type();
  out["name"] = name;
  for (auto it = params.begin(); it != params.end(); ++it) out[it.key()] = it.value();
  return out;
}

json resolve_layer_list(const ConfigView& list, ResolveContext& ctx) {
  list.require_array();
  if (list.size() == 0) list.fail("the layer list is empty; a model needs at least one layer");
  reserve_names(list.json_value(), ctx);
  json out = json::array();
  for (std::size_t i = 0; i < list.size(); ++i) out.push_back(resolve_layer(list.at(i), ctx));
  return out;
}

namespace {
std::atomic<std::int64_t> g_memory_limit{0};
}  // namespace

std::int64_t model_memory_limit() {
  const std::int64_t set = g_memory_limit.load();
  return set > 0 ? set : physical_memory_bytes();
}

void set_model_memory_limit(std::int64_t bytes) { g_memory_limit = bytes; }

namespace {

[[noreturn]] void over_budget(const ConfigView& at, const MemoryBudget& b, const std::string& what) {
  auto type = at.find("type");
  std::string who = type && type->is_string() ? type->as_string() : "the model";
  if (auto name = at.find("name"); name && name->is_string()) who += " '" + name->as_string() + "'";
  at.fail(who + ": " + what + " brings the model to about " + human_bytes(double(b.total_bytes())) +
          " (parameters " + human_bytes(double(sat_mul(b.param_count, 4))) + " + activations of one image " +
          human_bytes(double(b.activation_bytes)) + ", float32), more than the " + human_bytes(double(b.limit_bytes)) +
          " of memory this machine has");
}

}  // namespace

void reserve_parameters(const ConfigView& layer, const BuildContext& ctx, std::int64_t count) {
  MemoryBudget& b = *ctx.budget;
  b.param_count = sat_add(b.param_count, count);
  if (b.total_bytes() > b.limit_bytes) over_budget(layer, b, with_commas(count) + " parameters");
}

void reserve_activations(const ConfigView& at, const BuildContext& ctx, std::int64_t bytes, const std::string& what) {
  MemoryBudget& b = *ctx.budget;
  b.activation_bytes = sat_add(b.activation_bytes, bytes);
  if (b.total_bytes() > b.limit_bytes) over_budget(at, b, what);
}

BuiltLayer build_layer(const ConfigView& layer, const Shape& input, const BuildContext& ctx) {
  const LayerType& t = lookup(layer);
  BuildContext local = ctx;
  if (auto init = layer.find("init")) {
    std::string s = init->as_string();
    if (s != "inherit") local.init = s;
  }
  const std::int64_t params_before = ctx.budget->param_count;
  BuiltLayer built;
  try {
    built = t.build(layer, input, local);
  } catch (const c10::Error& e) {
    // Within the budget, yet the allocator said no (memory taken by others, limits).
    const std::string what = e.what_without_backtrace();
    throw Error(layer.where() + ": cannot build " + t.type() + " layer: " + what.substr(0, what.find('\n')));
  }
  built.param_count = ctx.budget->param_count - params_before;
  reserve_activations(layer, ctx, sat_mul(built.output.numel(), 4), "its output " + built.output.str());
  built.name = layer.at("name").as_string();
  built.type = t.type();
  built.input = input;
  built.params = layer.json_value();
  return built;
}

std::vector<BuiltLayer> build_layer_list(const ConfigView& list, const Shape& input, const BuildContext& ctx) {
  list.require_array(true);
  std::vector<BuiltLayer> out;
  Shape shape = input;
  for (std::size_t i = 0; i < list.size(); ++i) {
    out.push_back(build_layer(list.at(i), shape, ctx));
    shape = out.back().output;
  }
  return out;
}

}  // namespace cnnkit
