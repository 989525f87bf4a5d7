// One lowering per config layer type (see layer_lowering.h). Most layer types are a chain of
// standard LibTorch modules and lower module by module, reading each module's own options, so
// the export computes what the built model computes. The exceptions have their own function:
// avgpool2d ("same" padding averages real cells only: a module private to layers/pool2d.cpp)
// residual (its body is a list of config layers) and scale (its module is private to
// layers/scale.cpp).
#include <torch/torch.h>

#include <functional>
#include <map>
#include <typeindex>

#include "cnnkit/core/strings.h"
#include "cnnkit/export/export_error.h"
#include "cnnkit/export/layer_lowering.h"
#include "cnnkit/layers/fast_dropout.h"
#include "cnnkit/layers/layer_stack.h"
#include "cnnkit/layers/layer_util.h"
#include "cnnkit/layers/residual_block.h"

namespace cnnkit {
namespace {

namespace nn = torch::nn;

std::string shape_text(const Shape& s) {
  if (s.is_spatial())
    return std::to_string(s.height()) + "x" + std::to_string(s.width()) + "x" + std::to_string(s.channels());
  return std::to_string(s.numel());
}

std::string where(const BuiltLayer& owner) { return "layer '" + owner.name + "' (" + owner.type + ")"; }

[[noreturn]] void unsupported(const BuiltLayer& owner, const std::string& key, const std::string& what) {
  throw ExportError(where(owner) + ": cannot export module '" + key + "': " + what);
}

IntPair pair_of(const torch::ExpandingArray<2>& a) { return {a->at(0), a->at(1)}; }

// Records the module's own tensors on the node and checks they are the ones the op expects.
void take_tensors(ModuleNode& node, const nn::Module& m, const std::vector<std::string>& params,
                  const std::vector<std::string>& buffers, const BuiltLayer& owner) {
  for (const auto& p : m.named_parameters(false)) node.parameters.push_back(p.key());
  for (const auto& b : m.named_buffers(false)) node.buffers.push_back(b.key());
  if (node.parameters != params || node.buffers != buffers) {
    unsupported(owner, node.key,
                m.name() + " holds tensors [" + join(node.parameters, ", ") + " | " + join(node.buffers, ", ") +
                    "], the exporter expects [" + join(params, ", ") + " | " + join(buffers, ", ") + "]");
  }
}

ModuleNode conv2d(const nn::Conv2dImpl& m, ModuleNode node, const BuiltLayer& owner) {
  const auto& o = m.options;
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  if (!padding) unsupported(owner, node.key, "Conv2d with \"same\"/\"valid\" padding mode (cnnkit pads explicitly)");
  if (!c10::get_if<torch::enumtype::kZeros>(&o.padding_mode()))
    unsupported(owner, node.key, "Conv2d padding_mode other than zeros");
  if (o.transposed()) unsupported(owner, node.key, "transposed Conv2d");
  Conv2dOp op;
  op.in_channels = o.in_channels();
  op.out_channels = o.out_channels();
  op.kernel = pair_of(o.kernel_size());
  op.stride = pair_of(o.stride());
  op.padding = pair_of(*padding);
  op.dilation = pair_of(o.dilation());
  op.groups = o.groups();
  op.bias = o.bias();
  node.op = op;
  take_tensors(node, m, op.bias ? std::vector<std::string>{"weight", "bias"} : std::vector<std::string>{"weight"}, {},
               owner);
  return node;
}

template <typename Impl>
ModuleNode batch_norm(const Impl& m, int dims, ModuleNode node, const BuiltLayer& owner) {
  const auto& o = m.options;
  if (!o.affine() || !o.track_running_stats()) {
    unsupported(owner, node.key, "batch norm without affine parameters or running statistics");
  }
  BatchNormOp op;
  op.dims = dims;
  op.features = o.num_features();
  op.eps = o.eps();
  op.momentum = o.momentum() ? std::optional<double>(*o.momentum()) : std::nullopt;
  node.op = op;
  take_tensors(node, m, {"weight", "bias"}, {"running_mean", "running_var", "num_batches_tracked"}, owner);
  return node;
}

ActivationOp activation(std::string function, double alpha = 0.0) {
  ActivationOp op;
  op.function = std::move(function);
  op.alpha = alpha;
  return op;
}

// The operation of a module that holds no tensors (pads, pools, flatten, activations, dropout).
ModuleOp tensorless_op(const nn::Module& m, const std::string& key, const BuiltLayer& owner) {
  const std::type_index type(typeid(m));
  auto is = [&](const std::type_info& t) { return type == std::type_index(t); };
  if (is(typeid(nn::ZeroPad2dImpl))) {
    const auto& p = dynamic_cast<const nn::ZeroPad2dImpl&>(m).options.padding();
    return PadOp{p->at(0), p->at(1), p->at(2), p->at(3), 0.0};
  }
  if (is(typeid(nn::ConstantPad2dImpl))) {
    const auto& o = dynamic_cast<const nn::ConstantPad2dImpl&>(m).options;
    return PadOp{o.padding()->at(0), o.padding()->at(1), o.padding()->at(2), o.padding()->at(3), o.value()};
  }
  if (is(typeid(nn::MaxPool2dImpl))) {
    const auto& o = dynamic_cast<const nn::MaxPool2dImpl&>(m).options;
    return MaxPoolOp{pair_of(o.kernel_size()), pair_of(o.stride()), pair_of(o.padding()), pair_of(o.dilation()),
                     o.ceil_mode()};
  }
  if (is(typeid(nn::AvgPool2dImpl))) {
    const auto& o = dynamic_cast<const nn::AvgPool2dImpl&>(m).options;
    if (o.divisor_override()) unsupported(owner, key, "AvgPool2d with divisor_override");
    return AvgPoolOp{pair_of(o.kernel_size()), pair_of(o.stride()), pair_of(o.padding()), o.ceil_mode(),
                     o.count_include_pad()};
  }
  if (is(typeid(nn::AdaptiveAvgPool2dImpl))) {
    const auto& size = dynamic_cast<const nn::AdaptiveAvgPool2dImpl&>(m).options.output_size();
    if (!size->at(0) || !size->at(1)) unsupported(owner, key, "AdaptiveAvgPool2d with an open output size");
    return AdaptiveAvgPoolOp{{*size->at(0), *size->at(1)}};
  }
  if (is(typeid(nn::FlattenImpl))) {
    const auto& o = dynamic_cast<const nn::FlattenImpl&>(m).options;
    return FlattenOp{o.start_dim(), o.end_dim()};
  }
  if (is(typeid(nn::ReLUImpl))) return activation("relu");
  if (is(typeid(nn::LeakyReLUImpl)))
    return activation("leaky_relu", dynamic_cast<const nn::LeakyReLUImpl&>(m).options.negative_slope());
  if (is(typeid(nn::ELUImpl))) return activation("elu", dynamic_cast<const nn::ELUImpl&>(m).options.alpha());
  if (is(typeid(nn::GELUImpl))) {
    ActivationOp op = activation("gelu");
    op.approximate = dynamic_cast<const nn::GELUImpl&>(m).options.approximate();
    return op;
  }
  if (is(typeid(nn::SiLUImpl))) return activation("silu");
  if (is(typeid(nn::SigmoidImpl))) return activation("sigmoid");
  if (is(typeid(nn::TanhImpl))) return activation("tanh");
  if (is(typeid(nn::SoftmaxImpl))) {
    ActivationOp op = activation("softmax");
    op.dim = dynamic_cast<const nn::SoftmaxImpl&>(m).options.dim();
    return op;
  }
  if (is(typeid(nn::LogSoftmaxImpl))) {
    ActivationOp op = activation("log_softmax");
    op.dim = dynamic_cast<const nn::LogSoftmaxImpl&>(m).options.dim();
    return op;
  }
  if (is(typeid(FastDropoutImpl))) return DropoutOp{dynamic_cast<const FastDropoutImpl&>(m).p(), false};
  if (is(typeid(nn::Dropout2dImpl))) return DropoutOp{dynamic_cast<const nn::Dropout2dImpl&>(m).options.p(), true};
  if (is(typeid(nn::IdentityImpl))) return IdentityOp{};
  unsupported(owner, key, "no exporter knows the module class " + m.name());
}

}  // namespace

ModuleNode lower_module(const nn::Module& m, const std::string& name, const std::string& key, const BuiltLayer& owner) {
  ModuleNode node;
  node.name = name;
  node.key = key;
  const std::type_index type(typeid(m));
  auto is = [&](const std::type_info& t) { return type == std::type_index(t); };

  if (is(typeid(LayerStackImpl))) {
    node.op = SequenceOp{};
    for (const auto& child : m.named_children())
      node.children.push_back(lower_module(*child.value(), child.key(), key + "." + child.key(), owner));
    take_tensors(node, m, {}, {}, owner);
    return node;
  }
  if (is(typeid(nn::Conv2dImpl))) return conv2d(dynamic_cast<const nn::Conv2dImpl&>(m), node, owner);
  if (is(typeid(nn::LinearImpl))) {
    const auto& o = dynamic_cast<const nn::LinearImpl&>(m).options;
    LinearOp op{o.in_features(), o.out_features(), o.bias()};
    node.op = op;
    take_tensors(node, m, op.bias ? std::vector<std::string>{"weight", "bias"} : std::vector<std::string>{"weight"}, {},
                 owner);
    return node;
  }
  if (is(typeid(nn::BatchNorm2dImpl))) return batch_norm(dynamic_cast<const nn::BatchNorm2dImpl&>(m), 2, node, owner);
  if (is(typeid(nn::BatchNorm1dImpl))) return batch_norm(dynamic_cast<const nn::BatchNorm1dImpl&>(m), 1, node, owner);

  // Modules without tensors.
  take_tensors(node, m, {}, {}, owner);
  node.op = tensorless_op(m, key, owner);
  return node;
}

namespace {

using Lowering = std::function<ModuleNode(const BuiltLayer&, const std::string& name, const std::string& key)>;

ModuleNode lower_standard(const BuiltLayer& layer, const std::string& name, const std::string& key) {
  return lower_module(*layer.module.ptr(), name, key, layer);
}

IntPair json_pair(const json& j) {
  if (j.is_array()) return {j.at(0).get<std::int64_t>(), j.at(1).get<std::int64_t>()};
  return {j.get<std::int64_t>(), j.get<std::int64_t>()};
}

// avgpool2d: native AvgPool2d (count_include_pad = false), or, for asymmetric "same" padding,
// layers/pool2d.cpp's MaskedAvgPool2d, whose geometry comes from the layer's resolved config.
ModuleNode lower_avgpool2d(const BuiltLayer& layer, const std::string& name, const std::string& key) {
  const nn::Module& stack = *layer.module.ptr();
  auto children = stack.named_children();
  if (typeid(stack) != typeid(LayerStackImpl) || children.size() != 1 || children.begin()->key() != "pool") {
    unsupported(layer, key, "avgpool2d is expected to be a LayerStack holding one module \"pool\"");
  }
  const nn::Module& pool = *children.begin()->value();
  if (typeid(pool) == typeid(nn::AvgPool2dImpl)) return lower_standard(layer, name, key);
  if (pool.name().find("MaskedAvgPool2d") == std::string::npos) {
    unsupported(layer, key + ".pool", "no exporter knows the module class " + pool.name());
  }
  const IntPair kernel = json_pair(layer.params.at("pool_size"));
  const IntPair stride = json_pair(layer.params.at("strides"));
  PaddingSpec spec;
  spec.mode = layer.params.at("padding").get<std::string>();
  const Padding2d pad = compute_padding(spec, {layer.input.height(), layer.input.width()}, kernel, stride);

  ModuleNode node;
  node.name = name;
  node.key = key;
  node.op = SequenceOp{};
  ModuleNode masked;
  masked.name = "pool";
  masked.key = key + ".pool";
  masked.op = MaskedAvgPoolOp{pad.left, pad.right, pad.top, pad.bottom, kernel, stride};
  take_tensors(masked, pool, {}, {}, layer);
  node.children.push_back(std::move(masked));
  return node;
}

// scale: layers/scale.cpp's module (private to that file) multiplies by the resolved factor.
ModuleNode lower_scale(const BuiltLayer& layer, const std::string& name, const std::string& key) {
  const nn::Module& m = *layer.module.ptr();
  if (m.name().find("ScaleImpl") == std::string::npos) unsupported(layer, key, "expected a Scale module, got " + m.name());
  ModuleNode node;
  node.name = name;
  node.key = key;
  node.op = ScaleOp{layer.params.at("factor").get<double>()};
  take_tensors(node, m, {}, {}, layer);
  return node;
}

ModuleNode lower_residual(const BuiltLayer& layer, const std::string& name, const std::string& key) {
  const nn::Module& m = *layer.module.ptr();
  if (typeid(m) != typeid(ResidualBlockImpl)) unsupported(layer, key, "expected a ResidualBlock, got " + m.name());
  auto& block = const_cast<ResidualBlockImpl&>(dynamic_cast<const ResidualBlockImpl&>(m));

  ModuleNode node;
  node.name = name;
  node.key = key;
  node.op = ResidualOp{block.identity_shortcut()};
  take_tensors(node, m, {}, {}, layer);

  ModuleNode body;
  body.name = "body";
  body.key = key + ".body";
  body.op = SequenceOp{};
  auto body_children = block.body()->named_children();
  if (body_children.size() != layer.children.size()) unsupported(layer, body.key, "body and config layers differ");
  std::size_t i = 0;
  for (const auto& item : body_children) {
    const BuiltLayer& child = layer.children[i++];
    if (item.key() != child.name || item.value().get() != child.module.ptr().get()) {
      unsupported(layer, body.key, "body module '" + item.key() + "' is not config layer '" + child.name + "'");
    }
    body.children.push_back(lower_layer(child, child.name, body.key + "." + child.name));
  }
  node.children.push_back(std::move(body));

  for (const auto& item : m.named_children()) {
    if (item.key() == "body") continue;
    if (item.key() != "shortcut" && item.key() != "activation")
      unsupported(layer, key, "unexpected child " + item.key());
    ModuleNode child = lower_module(*item.value(), item.key(), key + "." + item.key(), layer);
    if (item.key() == "activation" && !child.as<ActivationOp>() && !child.as<IdentityOp>()) {
      unsupported(layer, child.key, "the residual activation is not an activation function");
    }
    node.children.push_back(std::move(child));
  }
  if (node.children.size() < 2 || node.children[1].name != "shortcut") unsupported(layer, key, "no shortcut module");
  if (block.identity_shortcut() != node.children[1].children.empty()) unsupported(layer, key, "inconsistent shortcut");
  return node;
}

const std::map<std::string, Lowering>& lowerings() {
  static const std::map<std::string, Lowering> table = {
      {"conv2d", lower_standard},
      {"dense", lower_standard},
      {"batch_norm", lower_standard},
      {"flatten", lower_standard},
      {"global_avgpool2d", lower_standard},
      {"maxpool2d", lower_standard},
      {"avgpool2d", lower_avgpool2d},
      {"dropout", lower_standard},
      {"spatial_dropout", lower_standard},
      {"residual", lower_residual},
      {"scale", lower_scale},
      {"activation", lower_standard},
      {"relu", lower_standard},
      {"leaky_relu", lower_standard},
      {"elu", lower_standard},
      {"gelu", lower_standard},
      {"silu", lower_standard},
      {"sigmoid", lower_standard},
      {"tanh", lower_standard},
      {"softmax", lower_standard},
      {"log_softmax", lower_standard},
  };
  return table;
}

}  // namespace

ModuleNode lower_layer(const BuiltLayer& layer, const std::string& name, const std::string& key) {
  auto it = lowerings().find(layer.type);
  if (it == lowerings().end()) {
    throw ExportError(where(layer) + ": layer type '" + layer.type +
                      "' cannot be exported yet (no lowering in src/cnnkit/export/layer_lowerings.cpp); exportable "
                      "types: " +
                      join(exportable_layer_types(), ", "));
  }
  ModuleNode node = it->second(layer, name, key);
  node.note = layer.type + " '" + layer.name + "': " + shape_text(layer.input) + " -> " + shape_text(layer.output);
  return node;
}

std::vector<std::string> exportable_layer_types() {
  std::vector<std::string> out;
  for (const auto& [type, _] : lowerings()) out.push_back(type);
  return out;
}

}  // namespace cnnkit
