#include "cnnkit/model/model.h"

#include <torch/torch.h>

#include "cnnkit/core/error.h"
#include "cnnkit/core/size_math.h"
#include "cnnkit/core/strings.h"

namespace cnnkit {

namespace {
void collect(const std::vector<BuiltLayer>& layers, const std::string& prefix, std::vector<LayerRef>& out) {
  for (std::size_t i = 0; i < layers.size(); ++i) {
    std::string path = prefix.empty() ? std::to_string(i) : prefix + "." + std::to_string(i);
    out.push_back({path, &layers[i]});
    collect(layers[i].children, path, out);
  }
}
}  // namespace

std::vector<LayerRef> Model::all_layers() const {
  std::vector<LayerRef> out;
  collect(layers, "", out);
  return out;
}

LayerRef Model::find_layer(const std::string& address) const {
  auto all = all_layers();
  for (const auto& ref : all)
    if (ref.path == address || ref.layer->name == address) return ref;
  std::vector<std::string> names;
  for (const auto& ref : all) names.push_back(ref.path + "=" + ref.layer->name);
  bool numeric = !address.empty() && address.find_first_not_of("0123456789.") == std::string::npos;
  std::string what = numeric ? "layer index " + address + " out of range" : "unknown layer '" + address + "'";
  std::vector<std::string> plain;
  for (const auto& ref : all) plain.push_back(ref.layer->name);
  throw UsageError("--layer " + address + ": " + what + (numeric ? "" : did_you_mean(address, plain)) +
                   "; valid: 0.." + std::to_string(layers.size() - 1) + " or a name (" + join(names, ", ") + ")");
}

Model build_model(const Config& config) {
  Model model;
  ConfigView input = config.section("input");
  model.input = Shape::spatial(input.at("channels").as_int(), input.at("height").as_int(), input.at("width").as_int());
  BuildContext ctx;
  ctx.init = config.section("init").as_string();
  reserve_activations(input, ctx, sat_mul(model.input.numel(), 4), "the input " + model.input.str());
  model.layers = build_layer_list(config.section("layers"), model.input, ctx);
  for (auto& layer : model.layers) model.net->push_back(layer.name, layer.module);
  return model;
}

ParamCount count_parameters(const torch::nn::Module& module) {
  ParamCount c;
  for (const auto& p : module.parameters()) {
    if (p.requires_grad()) c.trainable += p.numel();
    else c.non_trainable += p.numel();
  }
  for (const auto& item : module.named_buffers()) {
    const std::string& key = item.key();
    if (key.size() >= 19 && key.compare(key.size() - 19, 19, "num_batches_tracked") == 0) continue;
    c.non_trainable += item.value().numel();
  }
  return c;
}

}  // namespace cnnkit
