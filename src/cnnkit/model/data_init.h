// Data-dependent weight initialisation: conv2d layers with init "patch_whitening" (the fast
// CIFAR trainers' first layer: airbench, hlb-cifar10). The builder cannot do it (it has no
// data), so a fresh training run calls initialise_from_data after build_model with a sample of
// normalised training images; a resumed run takes the weights from its checkpoint instead.
// model/ never sees the datasets: it gets a tensor of images.
//
// For a top-level conv2d with kernel kh×kw over C input channels (d = C·kh·kw), given the
// layer's input X (the images run through the layers before it, in eval mode):
//   patches  every kh×kw window of X at stride 1 (no padding), flattened to d values
//   Σ        the uncentred patch covariance: mean of p·pᵀ over all patches
//   Σ = V diag(λ) Vᵀ, eigenvalues λ₁ ≥ … ≥ λ_d
//   filter i = v_i / sqrt(λ_i + whitening_eps)   (reshaped to C×kh×kw)
// filters = 2d: the d filters and their negatives [W; −W] (airbench); filters ≤ d: the first
// `filters` of them. The bias is set to 0. The result responds to whitened patch coordinates:
// decorrelated, unit variance on the training images.
#pragma once
#include <string>
#include <vector>

#include <torch/types.h>

#include "cnnkit/model/model.h"

namespace cnnkit {

// True when some layer's weights come from data (init "patch_whitening").
bool needs_data_init(const Model& model);

// Initialises those layers from `images` (normalised float [N, C, H, W] on the model's device,
// the model's input). Returns one line per initialised layer, for the log. Throws ConfigError
// for a patch_whitening conv2d inside a residual body (only top-level layers are supported),
// TrainingError when the patch covariance cannot be decomposed.
std::vector<std::string> initialise_from_data(Model& model, const torch::Tensor& images);

}  // namespace cnnkit
