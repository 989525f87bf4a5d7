// Training-time augmentation of whole batches [B, C, H, W], vectorised, on the batch's device.
// Each random op draws its parameters on the CPU from the given generator (so a seed gives the
// same batches on any device) and applies them with one explicit op, also public for tests.
// Geometric ops work on any dtype (the pipeline runs them on uint8, before normalisation);
// cutout and random erasing run after normalisation, so their fill 0 is the mean pixel.
#pragma once
#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "cnnkit/data/data_config.h"

namespace cnnkit {

// Output pixel (y, x) of image b is input pixel (y + oy[b] - padding, x + ox[b] - padding):
// the crop of the padded image at offset (oy, ox), oy/ox in [0, 2 * padding]. Outside the image
// the pixel is 0 ("zero") or mirrored without repeating the edge ("reflect", like numpy/torch).
torch::Tensor crop_at(const torch::Tensor& x, std::int64_t padding, bool reflect, const torch::Tensor& oy,
                      const torch::Tensor& ox);
torch::Tensor random_crop(const torch::Tensor& x, const RandomCropOptions& o, at::Generator& gen);

// Mirrors images whose `mask` (bool [B]) is true left to right.
torch::Tensor flip_where(const torch::Tensor& x, const torch::Tensor& mask);
torch::Tensor random_horizontal_flip(const torch::Tensor& x, at::Generator& gen);

// Sets rows [y0, y1) x cols [x0, x1) of image b to `value` (or to `noise` where given) when
// apply[b]. All box tensors int64 [B].
torch::Tensor erase_boxes(const torch::Tensor& x, const torch::Tensor& y0, const torch::Tensor& y1,
                          const torch::Tensor& x0, const torch::Tensor& x1, const torch::Tensor& apply,
                          double value, const torch::Tensor& noise = {});
// DeVries & Taylor's cutout: a size x size square centred anywhere in the image (clipped at
// the borders) with `probability`, filled with 0.
torch::Tensor cutout(const torch::Tensor& x, const CutoutOptions& o, at::Generator& gen);
// torchvision's RandomErasing: with `probability`, a box of random area (scale) and aspect ratio
// (log-uniform), up to 10 tries to fit it, filled with `value` or N(0, 1) noise.
torch::Tensor random_erasing(const torch::Tensor& x, const RandomErasingOptions& o, at::Generator& gen);

}  // namespace cnnkit
