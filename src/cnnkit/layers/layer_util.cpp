#include "cnnkit/layers/layer_util.h"

#include <torch/torch.h>

#include <cmath>

#include "cnnkit/core/error.h"

namespace cnnkit {

Pair parse_pair(const ConfigView& v, std::int64_t min) {
  const json& j = v.json_value();
  std::string expect = std::string(min >= 1 ? "a positive integer" : "an integer >= 0") + " or [h, w]";
  auto ok_int = [&](const json& x) {
    return x.is_number_integer() && x.get<std::int64_t>() >= min && x.get<std::int64_t>() <= (1 << 20);
  };
  if (ok_int(j)) return {j.get<std::int64_t>(), j.get<std::int64_t>()};
  if (j.is_array() && j.size() == 2 && ok_int(j[0]) && ok_int(j[1]))
    return {j[0].get<std::int64_t>(), j[1].get<std::int64_t>()};
  v.fail("must be " + expect + "; got " + ConfigView::render(j));
}

Pair get_pair(const ConfigView& layer, const std::string& key, Pair def, std::int64_t min) {
  auto v = layer.find(key);
  return v ? parse_pair(*v, min) : def;
}

json pair_json(Pair p) { return p.first == p.second ? json(p.first) : json::array({p.first, p.second}); }

PaddingSpec parse_padding(const ConfigView& layer, const std::string& def) {
  PaddingSpec spec;
  auto v = layer.find("padding");
  if (!v) {
    spec.mode = def;
    return spec;
  }
  if (v->is_string()) {
    spec.mode = v->as_choice({"same", "valid"});
    return spec;
  }
  if (!(v->json_value().is_number_integer() || v->is_array())) {
    v->fail("must be \"same\", \"valid\", an integer >= 0 or [h, w]; got " + ConfigView::render(v->json_value()));
  }
  spec.mode = "explicit";
  spec.amount = parse_pair(*v, 0);
  return spec;
}

json padding_json(const PaddingSpec& p) { return p.mode == "explicit" ? pair_json(p.amount) : json(p.mode); }

Padding2d compute_padding(const PaddingSpec& spec, Pair in, Pair kernel, Pair stride, Pair dilation) {
  Padding2d pad;
  if (spec.mode == "explicit") {
    pad.top = pad.bottom = spec.amount.first;
    pad.left = pad.right = spec.amount.second;
  } else if (spec.mode == "same") {
    auto one = [](std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t d) {
      std::int64_t out = (in + s - 1) / s;
      std::int64_t total = std::max<std::int64_t>((out - 1) * s + d * (k - 1) + 1 - in, 0);
      return std::make_pair(total / 2, total - total / 2);
    };
    auto h = one(in.first, kernel.first, stride.first, dilation.first);
    auto w = one(in.second, kernel.second, stride.second, dilation.second);
    pad.top = h.first;
    pad.bottom = h.second;
    pad.left = w.first;
    pad.right = w.second;
  }
  return pad;
}

Pair output_size(Pair in, const Padding2d& pad, Pair kernel, Pair stride, Pair dilation) {
  auto one = [](std::int64_t in, std::int64_t p, std::int64_t k, std::int64_t s, std::int64_t d) {
    std::int64_t span = in + p - d * (k - 1) - 1;
    return span < 0 ? std::int64_t(0) : span / s + 1;
  };
  return {one(in.first, pad.top + pad.bottom, kernel.first, stride.first, dilation.first),
          one(in.second, pad.left + pad.right, kernel.second, stride.second, dilation.second)};
}

const std::vector<std::string>& activation_names() {
  static const std::vector<std::string> names = {"linear", "relu",    "leaky_relu", "elu",     "gelu",
                                                 "silu",   "sigmoid", "tanh",       "softmax", "log_softmax"};
  return names;
}

double default_alpha(const std::string& name) {
  if (name == "leaky_relu") return 0.01;
  if (name == "elu") return 1.0;
  return 0.0;
}

torch::nn::AnyModule make_activation(const std::string& name, double alpha) {
  namespace nn = torch::nn;
  if (name == "relu") return nn::AnyModule(nn::ReLU());
  if (name == "leaky_relu") return nn::AnyModule(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(alpha)));
  if (name == "elu") return nn::AnyModule(nn::ELU(nn::ELUOptions().alpha(alpha)));
  if (name == "gelu") return nn::AnyModule(nn::GELU());
  if (name == "silu") return nn::AnyModule(nn::SiLU());
  if (name == "sigmoid") return nn::AnyModule(nn::Sigmoid());
  if (name == "tanh") return nn::AnyModule(nn::Tanh());
  if (name == "softmax") return nn::AnyModule(nn::Softmax(nn::SoftmaxOptions(1)));
  if (name == "log_softmax") return nn::AnyModule(nn::LogSoftmax(nn::LogSoftmaxOptions(1)));
  return nn::AnyModule(nn::Identity());
}

const std::vector<std::string>& init_names() {
  static const std::vector<std::string> names = {"default", "he", "he_uniform", "xavier", "xavier_normal", "dirac"};
  return names;
}

namespace {

// The identity on the leading min(out, in) channels: conv weights [out, in, kh, kw] get a 1 at
// the kernel centre, dense weights [out, in] the identity block; the rest keeps its values.
void dirac_block(torch::Tensor& w) {
  const std::int64_t m = std::min(w.size(0), w.size(1));
  auto block = w.narrow(0, 0, m).narrow(1, 0, m);
  block.zero_();
  auto idx = torch::arange(m, torch::kInt64);
  if (w.dim() == 4) {
    block.index_put_({idx, idx, w.size(2) / 2, w.size(3) / 2}, 1.0);
  } else {
    block.index_put_({idx, idx}, 1.0);
  }
}

}  // namespace

void init_weights(torch::nn::Module& module, const std::string& scheme) {
  if (scheme == "default") return;
  torch::NoGradGuard no_grad;
  auto init_one = [&](torch::Tensor& w, torch::Tensor& b) {
    if (scheme == "he") torch::nn::init::kaiming_normal_(w, 0.0, torch::kFanIn, torch::kReLU);
    else if (scheme == "he_uniform") torch::nn::init::kaiming_uniform_(w, 0.0, torch::kFanIn, torch::kReLU);
    else if (scheme == "xavier") torch::nn::init::xavier_uniform_(w);
    else if (scheme == "xavier_normal") torch::nn::init::xavier_normal_(w);
    else if (scheme == "dirac") dirac_block(w);
    if (b.defined()) b.zero_();
  };
  for (auto& m : module.modules(/*include_self=*/true)) {
    if (auto* conv = m->as<torch::nn::Conv2d>()) init_one(conv->weight, conv->bias);
    else if (auto* lin = m->as<torch::nn::Linear>()) init_one(lin->weight, lin->bias);
  }
}

const std::vector<std::string>& batch_norm_keys() {
  static const std::vector<std::string> keys = {"momentum", "epsilon", "scale", "center"};
  return keys;
}

json resolve_batch_norm_keys(const ConfigView& p) {
  json out;
  out["momentum"] = p.has("momentum") ? p.at("momentum").as_double_in(0.0, 1.0, false, true) : 0.1;
  out["epsilon"] = p.has("epsilon") ? p.at("epsilon").as_double_in(0.0, 1.0, false, false) : 1e-5;
  out["scale"] = p.get_bool("scale", true);
  out["center"] = p.get_bool("center", true);
  return out;
}

json resolve_batch_norm_option(const ConfigView& layer) {
  auto v = layer.find("batch_norm");
  if (!v) return false;
  if (v->json_value().is_boolean()) {
    if (!v->as_bool()) return false;
    static const json kEmpty = json::object();
    return resolve_batch_norm_keys(ConfigView(kEmpty, v->source_ptr(), v->pointer()));
  }
  if (!v->is_object()) {
    v->fail("must be true, false or an options object {momentum, epsilon, scale, center}; got " +
            ConfigView::render(v->json_value()));
  }
  v->check_keys(batch_norm_keys());
  return resolve_batch_norm_keys(*v);
}

bool batch_norm_enabled(const ConfigView& layer) {
  auto v = layer.find("batch_norm");
  return v && (v->is_object() || (v->json_value().is_boolean() && v->as_bool()));
}

torch::nn::AnyModule make_batch_norm(const ConfigView& o, std::int64_t features, bool spatial) {
  namespace nn = torch::nn;
  // A resolved-before-this-version config may say just `true`: the defaults.
  const json& j = o.json_value();
  const double momentum = j.is_object() ? j.value("momentum", 0.1) : 0.1;
  const double eps = j.is_object() ? j.value("epsilon", 1e-5) : 1e-5;
  const bool scale = j.is_object() ? j.value("scale", true) : true;
  const bool center = j.is_object() ? j.value("center", true) : true;
  auto freeze = [&](torch::Tensor& weight, torch::Tensor& bias) {
    if (!scale) weight.set_requires_grad(false);
    if (!center) bias.set_requires_grad(false);
  };
  if (spatial) {
    nn::BatchNorm2d bn(nn::BatchNorm2dOptions(features).momentum(momentum).eps(eps));
    freeze(bn->weight, bn->bias);
    return nn::AnyModule(bn);
  }
  nn::BatchNorm1d bn(nn::BatchNorm1dOptions(features).momentum(momentum).eps(eps));
  freeze(bn->weight, bn->bias);
  return nn::AnyModule(bn);
}

json resolve_trainable(const ConfigView& layer) {
  auto v = layer.find("trainable");
  if (!v) return true;
  if (v->json_value().is_boolean()) return v->as_bool();
  if (v->is_string() && v->as_string() == "bias") return "bias";
  v->fail("must be true, false or \"bias\" (only the bias trains); got " + ConfigView::render(v->json_value()));
}

void apply_trainable(const json& trainable, torch::Tensor& weight, torch::Tensor& bias) {
  if (trainable.is_boolean() && trainable.get<bool>()) return;
  weight.set_requires_grad(false);
  if (bias.defined() && trainable.is_boolean()) bias.set_requires_grad(false);
}

std::string describe_shape(const Shape& s) { return s.str() + (s.is_spatial() ? " (spatial H×W×C)" : " (flat)"); }

void shape_fail(const ConfigView& layer, const std::string& why) { shape_fail(layer, layer, why); }

void shape_fail(const ConfigView& layer, const ConfigView& at, const std::string& why) {
  std::string type = layer.has("type") ? layer.at("type").as_string() : "layer";
  std::string name = layer.has("name") ? layer.at("name").as_string() : type;
  throw ShapeError(at.where() + ": " + type + " '" + name + "' cannot take its input: " + why);
}

void require_spatial(const ConfigView& layer, const Shape& input) {
  if (!input.is_spatial()) {
    shape_fail(layer, "needs a spatial input H×W×C, got " + describe_shape(input) +
                          "; put it before flatten/dense/global pooling");
  }
}

void require_flat(const ConfigView& layer, const Shape& input) {
  if (!input.is_flat()) {
    shape_fail(layer, "needs a flat input (features), got " + describe_shape(input) +
                          "; add a flatten or global_avgpool2d layer before it");
  }
}

}  // namespace cnnkit
