#include "export/export_support.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <fstream>
#include <sstream>

#include "cnnkit/config/config.h"
#include "cnnkit/data/pipeline.h"
#include "cnnkit/eval/trained_model.h"
#include "cnnkit/model/checkpoint.h"
#include "support/model_helpers.h"

namespace cnnkit::test {

std::string python_with_torch() { return find_python_with("torch").python; }

ProcessResult run_python(const std::vector<std::string>& args) {
  std::vector<std::string> argv{python_with_torch()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_process(argv);
}

void randomize_weights(Model& model, std::uint64_t seed) {
  torch::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(seed);
  for (auto& p : model.net->named_parameters(true)) {
    auto& t = p.value();
    t.add_(torch::randn(t.sizes(), gen) * 0.05);
  }
  for (auto& b : model.net->named_buffers(true)) {
    auto& t = b.value();
    const std::string& key = b.key();
    if (key.size() >= 12 && key.compare(key.size() - 12, 12, "running_mean") == 0)
      t.copy_(torch::randn(t.sizes(), gen) * 0.1);
    else if (key.size() >= 11 && key.compare(key.size() - 11, 11, "running_var") == 0)
      t.copy_(torch::rand(t.sizes(), gen) + 0.5);
    else if (t.scalar_type() == torch::kLong)
      t.fill_(7);
  }
}

std::vector<std::string> class_names_for(std::int64_t classes) {
  std::vector<std::string> names;
  for (std::int64_t i = 0; i < classes; ++i) names.push_back("class \"" + std::to_string(i) + "\"");
  return names;
}

Normalization normalization_for(std::int64_t channels) {
  Normalization n;
  for (std::int64_t c = 0; c < channels; ++c) {
    n.mean.push_back(0.4 + 0.05 * static_cast<double>(c));
    n.std.push_back(0.25 + 0.02 * static_cast<double>(c));
  }
  return n;
}

void write_random_checkpoint(const nlohmann::json& doc, const std::string& path, std::uint64_t seed) {
  Config config = resolve_doc(doc, "test-export.json");
  Model model = build_model(config);
  randomize_weights(model, seed);
  CheckpointData data;
  data.config = config.resolved();
  const Normalization n = normalization_for(model.input.channels());
  data.meta["class_names"] = class_names_for(model.num_outputs());
  data.meta["normalization"] = {{"mean", n.mean}, {"std", n.std}};
  save_checkpoint(path, model, data, nullptr);
}

torch::Tensor cnnkit_logits(const std::string& checkpoint, const torch::Tensor& images_u8, torch::Tensor* normalized) {
  TrainedModel t = load_trained_model(checkpoint);
  BatchPipeline pipeline(t.config, t.normalization, torch::kCPU);
  at::Generator gen = at::detail::createCPUGenerator(0);
  torch::NoGradGuard no_grad;
  torch::Tensor x = pipeline.prepare(images_u8, /*train=*/false, gen);
  if (normalized) *normalized = x;
  return t.model.net->forward(x);
}

torch::Tensor random_images(const Shape& input, std::int64_t n, std::uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  return torch::randint(0, 256, {n, input.channels(), input.height(), input.width()}, gen, torch::kUInt8);
}

void save_tensor_dict(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [k, t] : tensors) dict.insert(k, t.contiguous());
  const std::vector<char> bytes = torch::pickle_save(dict);
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

nlohmann::json model_config(const std::string& name, std::int64_t c, std::int64_t h, std::int64_t w,
                            const nlohmann::json& layers) {
  return {{"name", name}, {"input", {{"channels", c}, {"height", h}, {"width", w}}}, {"layers", layers}};
}

}  // namespace cnnkit::test

#include "cnnkit/layers/layer_registry.h"
#include "support/cli.h"

namespace cnnkit::test {

namespace {
using nlohmann::json;

json typed(const std::string& type, json params) {
  params["type"] = type;
  return params;
}

json head() { return json::array({{{"type", "flatten"}}, {{"type", "dense"}, {"units", 5}}}); }

ExportCase with_head(const std::string& name, std::int64_t c, std::int64_t h, std::int64_t w, json layers) {
  for (const auto& l : head()) layers.push_back(l);
  return {name, model_config(name, c, h, w, layers)};
}

json conv(int filters, json extra = json::object()) {
  json l = {{"type", "conv2d"}, {"filters", filters}, {"kernel_size", 3}, {"padding", "same"}};
  for (auto it = extra.begin(); it != extra.end(); ++it) l[it.key()] = it.value();
  return l;
}

}  // namespace

std::vector<ExportCase> layer_cases() {
  std::vector<ExportCase> cases;
  for (const auto& type : LayerRegistry::instance().types()) {
    const LayerType* t = LayerRegistry::instance().find(type);
    const Shape in = t->example_input();
    json layers = json::array();
    if (in.is_flat()) {
      layers.push_back({{"type", "flatten"}});
      layers.push_back(typed(type, t->example()));
      cases.push_back(with_head("type_" + type, in.features(), 1, 1, layers));
    } else {
      layers.push_back(typed(type, t->example()));
      cases.push_back(with_head("type_" + type, in.channels(), in.height(), in.width(), layers));
    }
  }
  auto add = [&](const std::string& name, std::int64_t c, std::int64_t h, std::int64_t w, json layers) {
    cases.push_back(with_head(name, c, h, w, std::move(layers)));
  };
  using A = std::vector<json>;  // a JSON array, whatever its length
  add("conv_same_stride2_asymmetric", 3, 8, 8, A{conv(4, {{"strides", 2}, {"activation", "relu"}})});
  add("conv_explicit_dilation_groups_nobias_bn_elu", 3, 9, 9,
      A{{{"type", "conv2d"},
         {"filters", 6},
         {"kernel_size", {3, 2}},
         {"dilation", 2},
         {"groups", 3},
         {"padding", {1, 2}},
         {"bias", false},
         {"batch_norm", true},
         {"activation", "elu"},
         {"alpha", 0.5}}});
  add("conv_valid_strides_leaky", 2, 9, 7,
      A{{{"type", "conv2d"},
         {"filters", 3},
         {"kernel_size", 2},
         {"strides", {2, 1}},
         {"activation", "leaky_relu"},
         {"alpha", 0.2}}});
  add("maxpool_valid_overlapping", 3, 9, 9, A{{{"type", "maxpool2d"}, {"pool_size", 3}, {"strides", 1}}});
  add("maxpool_same_symmetric", 3, 7, 7,
      A{{{"type", "maxpool2d"}, {"pool_size", 3}, {"strides", 1}, {"padding", "same"}}});
  add("maxpool_same_rect", 3, 7, 6,
      A{{{"type", "maxpool2d"}, {"pool_size", {3, 2}}, {"strides", 2}, {"padding", "same"}}});
  add("avgpool_same_symmetric", 3, 7, 7,
      A{{{"type", "avgpool2d"}, {"pool_size", 3}, {"strides", 1}, {"padding", "same"}}});
  add("avgpool_same_asymmetric", 3, 6, 7,
      A{{{"type", "avgpool2d"}, {"pool_size", {2, 3}}, {"strides", 2}, {"padding", "same"}}});
  add("avgpool_valid_rect", 3, 8, 8, A{{{"type", "avgpool2d"}, {"pool_size", {2, 3}}, {"strides", {2, 1}}}});
  add("dense_bn_tanh_nobias", 4, 3, 3,
      A{{{"type", "flatten"}},
        {{"type", "dense"}, {"units", 6}, {"batch_norm", true}, {"bias", false}, {"activation", "tanh"}}});
  add("batch_norm_flat", 4, 2, 2,
      A{{{"type", "flatten"}}, {{"type", "batch_norm"}, {"momentum", 0.2}, {"epsilon", 1e-3}}});
  add("residual_identity", 3, 8, 8,
      A{conv(4, {{"activation", "relu"}}),
        {{"type", "residual"},
         {"layers", A{conv(4, {{"batch_norm", true}, {"activation", "relu"}}), conv(4, {{"batch_norm", true}})}}}});
  add("residual_projection_nobn_linear", 3, 8, 8,
      A{{{"type", "residual"},
         {"layers", A{conv(6, {{"strides", 2}, {"activation", "silu"}})}},
         {"shortcut_batch_norm", false},
         {"activation", "linear"}}});
  add("residual_forced_projection_gelu", 4, 6, 6,
      A{{{"type", "residual"}, {"layers", A{conv(4)}}, {"shortcut", "projection"}, {"activation", "gelu"}}});
  add("residual_nested_and_stateless", 3, 6, 6,
      A{{{"type", "residual"},
         {"name", "outer-block"},
         {"layers",
          A{{{"type", "residual"}, {"name", "inner-block"}, {"layers", A{{{"type", "relu"}}}}, {"activation", "tanh"}},
            conv(3, {{"name", "my-conv"}, {"batch_norm", true}})}},
         {"activation", "leaky_relu"},
         {"alpha", 0.3}},
        {{"type", "residual"}, {"layers", A{{{"type", "sigmoid"}}, {{"type", "dropout"}, {"rate", 0.5}}}}}});
  add("names_not_identifiers", 3, 6, 6,
      A{conv(4, {{"name", "conv-1"}}),
        {{"type", "maxpool2d"}, {"name", "pool-1"}},
        {{"type", "dropout"}, {"rate", 0.3}, {"name", "class"}}});
  return cases;
}

std::vector<ExportCase> seed_cases() {
  std::vector<ExportCase> cases;
  for (const std::string name : {"mnist", "cifar", "cifar_bn"}) {
    json doc = json::parse(read_file(config_path(name + ".json")));
    doc.erase("data");
    doc.erase("training");
    cases.push_back({"seed_" + name, doc});
  }
  cases.push_back(
      {"residual_net",
       model_config(
           "residual_net", 3, 32, 32,
           std::vector<json>{
               conv(16, {{"batch_norm", true}, {"activation", "relu"}}),
               {{"type", "residual"},
                {"layers", std::vector<json>{conv(16, {{"batch_norm", true}, {"activation", "relu"}}),
                                             conv(16, {{"batch_norm", true}})}}},
               {{"type", "residual"},
                {"layers", std::vector<json>{conv(32, {{"strides", 2}, {"batch_norm", true}, {"activation", "relu"}}),
                                             conv(32, {{"batch_norm", true}})}}},
               {{"type", "global_avgpool2d"}},
               {{"type", "dropout"}, {"rate", 0.2}},
               {{"type", "dense"}, {"units", 10}}})});
  return cases;
}

}  // namespace cnnkit::test
