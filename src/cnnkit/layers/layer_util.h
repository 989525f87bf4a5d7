// Helpers shared by the layer files: [h, w] pairs, "same"/"valid"/explicit padding and its
// output-size rule, activations, weight initialisation, shape errors.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>

#include "cnnkit/config/config_view.h"
#include "cnnkit/layers/shape.h"

namespace cnnkit {

using Pair = std::pair<std::int64_t, std::int64_t>;  // (height, width)

// An int or [h, w] of integers >= min. Error: "must be a positive integer or [h, w]; got -3".
Pair parse_pair(const ConfigView& v, std::int64_t min = 1);
Pair get_pair(const ConfigView& layer, const std::string& key, Pair def, std::int64_t min = 1);
json pair_json(Pair p);  // an int when both are equal, else [h, w]

// Padding: "same" (output = ceil(input / stride), extra padding on the bottom/right as in
// Keras), "valid" (none), or explicit int / [h, w] on both sides.
struct PaddingSpec {
  std::string mode = "valid";  // same | valid | explicit
  Pair amount{0, 0};
};
PaddingSpec parse_padding(const ConfigView& layer, const std::string& def);
json padding_json(const PaddingSpec& p);

struct Padding2d {
  std::int64_t top = 0, bottom = 0, left = 0, right = 0;
  bool symmetric() const { return top == bottom && left == right; }
  bool any() const { return top || bottom || left || right; }
};
// Output-size rule: out = floor((in + pad_total - dilation*(k-1) - 1) / stride) + 1.
Padding2d compute_padding(const PaddingSpec& spec, Pair in, Pair kernel, Pair stride, Pair dilation = {1, 1});
Pair output_size(Pair in, const Padding2d& pad, Pair kernel, Pair stride, Pair dilation = {1, 1});

// Activations by name; "linear" means none.
const std::vector<std::string>& activation_names();
// `alpha`: negative slope for leaky_relu, alpha for elu (ignored otherwise).
torch::nn::AnyModule make_activation(const std::string& name, double alpha);
double default_alpha(const std::string& name);

// Weight initialisation schemes for conv and dense weights (biases become zero unless "default").
// "dirac": LibTorch's default, then the first min(in, out) filters of a conv2d (groups 1) pass
// their input channel through unchanged (a 1 at the kernel centre, index k/2), and the leading
// square block of a dense weight is the identity (airbench's convolutions).
const std::vector<std::string>& init_names();
void init_weights(torch::nn::Module& module, const std::string& scheme);

// Batch normalization options, shared by the batch_norm layer and the "batch_norm" key of
// conv2d and dense: {"momentum": 0.1, "epsilon": 1e-5, "scale": true, "center": true}.
// momentum follows LibTorch (running = (1 - momentum)·running + momentum·batch); scale false
// freezes γ at 1 and center false freezes β at 0 (both stay in the weights, as non-trainable).
const std::vector<std::string>& batch_norm_keys();
json resolve_batch_norm_keys(const ConfigView& options);
// The "batch_norm" key of a conv2d/dense layer: false, or the resolved options (true = the
// defaults, an object = its options).
json resolve_batch_norm_option(const ConfigView& layer);
bool batch_norm_enabled(const ConfigView& resolved_layer);
// BatchNorm2d (spatial) or BatchNorm1d over `features`, from resolved options.
torch::nn::AnyModule make_batch_norm(const ConfigView& resolved_options, std::int64_t features, bool spatial);

// The "trainable" key of conv2d and dense: true (default), false (weight and bias frozen), or
// "bias" (only the bias trains). Frozen parameters keep their initial values and count as
// non-trainable.
json resolve_trainable(const ConfigView& layer);
void apply_trainable(const json& trainable, torch::Tensor& weight, torch::Tensor& bias);

// Throws ShapeError: "<file>:/layers/3: conv2d 'conv2d_2' cannot take its input: needs
// H×W×C (spatial), got 2048 (flat)".
[[noreturn]] void shape_fail(const ConfigView& layer, const std::string& why);
// The same, reported at the key that does not fit (e.g. /layers/3/kernel_size).
[[noreturn]] void shape_fail(const ConfigView& layer, const ConfigView& at, const std::string& why);
void require_spatial(const ConfigView& layer, const Shape& input);
void require_flat(const ConfigView& layer, const Shape& input);
std::string describe_shape(const Shape& s);  // "28×28×32 (spatial)" / "2048 (flat)"

}  // namespace cnnkit
