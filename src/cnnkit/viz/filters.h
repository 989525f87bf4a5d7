// Filter images: a convolution layer's learned kernels [O, I, kh, kw] as pictures.
// A layer that reads RGB (I = 3 and the model's input is RGB) shows each filter as one colour
// image; otherwise every (output, input) kernel is a scalar tile, one row per output filter.
#pragma once
#include <string>
#include <vector>

#include <torch/types.h>

#include "cnnkit/layers/layer_registry.h"
#include "cnnkit/viz/feature_maps.h"

namespace cnnkit {

// The kernel of a conv2d layer (its "conv" module's weight, [O, I, kh, kw]); an undefined
// tensor for layers without one (pools, dense, residual blocks: address their body layers).
torch::Tensor conv_kernel(const BuiltLayer& layer);

struct FilterImages {
  torch::Tensor images;             // uint8 [M, 3 or 1, kh * scale, kw * scale]
  std::vector<std::string> labels;  // one per image, or empty (too many tiles to label)
  int columns = 0;                  // tiles per row for make_grid
  bool rgb = false;
};

// Renders kernels [O, I, kh, kw]. rgb: I must be 3; each filter becomes one RGB image
// (channel order as the model reads its input), normalised per filter (kChannel) or over all
// filters (kLayer); `columns` = 0 (about square). Otherwise O*I tiles through `colormap`,
// normalised per output filter or over the layer, `columns` = I (one row per output filter).
// `groups` > 1 (compare: A's kernels then B's, concatenated along O) only affects the labels.
FilterImages filter_images(const torch::Tensor& weight, bool rgb, MapNormalize mode, const std::string& colormap,
                           int scale, int groups = 1);

}  // namespace cnnkit
