// ModuleTree: a built model described as the tree of modules it is made of, in terms every
// exporter can render (TorchScript source, a Python torch.nn definition). It mirrors the
// LibTorch module hierarchy exactly, so the state-dict keys of every rendering equal the
// model's own ("conv2d.conv.weight", "residual.body.conv2d_1.bn.running_mean").
//
// Lowering a model goes through a table with one entry per config layer type
// (layer_lowerings.cpp). A layer type without an entry, or a module class a lowering does not
// know, is an ExportError naming the layer and the type: the exporters never guess what an
// unknown module computes.
//
// Requires: a model built by build_model (any device; tensors are copied to the CPU).
// Ensures:  every parameter and buffer of the model is owned by exactly one node, under its
//           own key; eval-mode semantics are those of the renderers (dropout is the identity,
//           batch norm uses its running statistics).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <torch/types.h>

#include "cnnkit/layers/shape.h"
#include "cnnkit/model/model.h"

namespace cnnkit {

using IntPair = std::pair<std::int64_t, std::int64_t>;  // (height, width)

// Leaf operations. Parameters (weight, bias, running statistics) live in ModuleTree::state.
struct Conv2dOp {
  std::int64_t in_channels = 0, out_channels = 0;
  IntPair kernel, stride, padding, dilation;
  std::int64_t groups = 1;
  bool bias = true;
};
struct LinearOp {
  std::int64_t in_features = 0, out_features = 0;
  bool bias = true;
};
struct BatchNormOp {
  int dims = 2;  // 1: [N, F] (BatchNorm1d), 2: [N, C, H, W] (BatchNorm2d)
  std::int64_t features = 0;
  double eps = 1e-5;
  std::optional<double> momentum = 0.1;  // training-time only; nullopt = cumulative average
};
struct PadOp {  // constant padding; value 0 (ZeroPad2d) or -inf (max-pooling "same")
  std::int64_t left = 0, right = 0, top = 0, bottom = 0;
  double value = 0.0;
};
struct MaxPoolOp {
  IntPair kernel, stride, padding, dilation{1, 1};
  bool ceil_mode = false;
};
struct AvgPoolOp {
  IntPair kernel, stride, padding;
  bool ceil_mode = false;
  bool count_include_pad = true;
};
// Average pooling over asymmetric zero padding that averages real cells only:
// avg_pool(pad(x)) / avg_pool(pad(ones)).
struct MaskedAvgPoolOp {
  std::int64_t left = 0, right = 0, top = 0, bottom = 0;
  IntPair kernel, stride;
};
struct AdaptiveAvgPoolOp {
  IntPair output{1, 1};
};
struct FlattenOp {
  std::int64_t start_dim = 1, end_dim = -1;
};
struct ActivationOp {
  std::string function;              // relu leaky_relu elu gelu silu sigmoid tanh softmax log_softmax
  double alpha = 0.0;                // leaky_relu: negative slope; elu: alpha
  std::int64_t dim = 1;              // softmax, log_softmax
  std::string approximate = "none";  // gelu
};
struct DropoutOp {  // identity at evaluation
  double rate = 0.0;
  bool spatial = false;  // whole channels (Dropout2d)
};
struct IdentityOp {};
struct ScaleOp {  // y = factor · x (the scale layer)
  double factor = 1.0;
};
// Containers. Sequence: children in order. Residual: children are body, shortcut (an empty
// Sequence for the identity) and, unless the activation is linear, activation;
// y = activation(body(x) + shortcut(x)).
struct SequenceOp {};
struct ResidualOp {
  bool identity_shortcut = true;
};

using ModuleOp =
    std::variant<Conv2dOp, LinearOp, BatchNormOp, PadOp, MaxPoolOp, AvgPoolOp, MaskedAvgPoolOp, AdaptiveAvgPoolOp,
                 FlattenOp, ActivationOp, DropoutOp, IdentityOp, ScaleOp, SequenceOp, ResidualOp>;

struct ModuleNode {
  std::string name;  // child name in the parent ("conv2d", "conv", "body"); "" for the root
  std::string key;   // state-dict prefix ("conv2d.conv"); "" for the root
  std::string note;  // for readers: "conv2d 'conv2d': 28x28x1 -> 28x28x32" (config layers only)
  ModuleOp op;
  std::vector<ModuleNode> children;
  std::vector<std::string> parameters;  // names on this node: "weight", "bias"
  std::vector<std::string> buffers;     // "running_mean", "running_var", "num_batches_tracked"

  // True when this node or a descendant holds a parameter or buffer.
  bool has_state() const;
  // "conv2d.conv" + "weight" -> "conv2d.conv.weight"
  std::string key_of(const std::string& tensor) const { return key.empty() ? tensor : key + "." + tensor; }
  template <typename T>
  const T* as() const {
    return std::get_if<T>(&op);
  }
};

struct ModuleTree {
  ModuleNode root;  // a SequenceOp, one child per config layer
  Shape input;
  Shape output;
  // Every parameter and buffer by key, detached, on the CPU, in the model's order
  // (parameters first, then buffers, as the model's own state dict).
  std::vector<std::pair<std::string, torch::Tensor>> state;
  std::vector<std::string> parameter_keys;  // keys of `state` that are parameters (not buffers)

  const torch::Tensor& tensor(const std::string& key) const;
};

// For std::visit over ModuleOp with one lambda per alternative: a renderer that misses an op
// does not compile.
template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

// Lowers a built model (see the header comment). Throws ExportError.
ModuleTree lower_model(const Model& model);

// Layer types the exporters support (the keys of the lowering table).
std::vector<std::string> exportable_layer_types();

// Names of torch.nn.Module members (and of cnnkit's own export attributes) that a layer may
// not be called, because the Python and TorchScript modules could not hold a child by that name.
const std::vector<std::string>& reserved_module_names();

}  // namespace cnnkit
