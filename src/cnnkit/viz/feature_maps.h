// Feature maps: what a layer outputs for an input, captured layer by layer and rendered as
// images. The pieces are small and composable; viz/featuremap_run.h puts them together for
// `cnnkit featuremap`.
//
// Rendering one layer's output for K models (K = 1, or 2 when comparing) and one input:
//   maps float [K, C, H, W] --normalise (per channel over K,H,W, or over the whole layer)-->
//   uint8 [K, C, H, W] --colour map (256-entry LUT)--> uint8 [K, C, 3|1, H, W]
//   --nearest upscaling by an integer factor--> images ready for write_png / make_grid.
// Flat outputs [F] (flatten, dense) become a one-channel "strip": rows of at most 64 cells.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "cnnkit/model/model.h"

namespace cnnkit {

// Resolves --layer values. Each value is an address ("3", "3.1" inside a residual body), a layer
// name, a comma-separated list of those, or "all" (every layer, nested ones included, in model
// order). Duplicates are dropped, first occurrence kept. Throws UsageError (Model::find_layer's
// message: the valid range and names) for an index out of range or an unknown name.
std::vector<LayerRef> select_layers(const Model& model, const std::vector<std::string>& specs);

// Runs `x` [N, C, H, W] (already normalised, on the model's device) through the model without
// gradients and returns the output [N, ...] of every address in `addresses`. The caller sets
// eval/train mode. A nested address ("3.1") runs the residual block's body layers one by one
// from the block's input; the block's own output still comes from the block. Stops after the
// last layer asked for. Requires: every address is valid (see select_layers).
std::map<std::string, torch::Tensor> capture_layer_outputs(Model& model, const torch::Tensor& x,
                                                           const std::vector<std::string>& addresses);

enum class MapNormalize { kChannel, kLayer };
// "channel" | "layer"; anything else throws UsageError.
MapNormalize parse_map_normalize(const std::string& s);

// Activation statistics of `t` over everything but dimension 0: min, max, mean and fraction of
// exact zeros (dead ReLUs), one entry per row. Computed on t's device, copied once.
struct MapStats {
  std::vector<double> min, max, mean, zero_fraction;
};
MapStats map_stats(const torch::Tensor& t);

// A flat output [K, F] laid out as a strip [K, 1, rows, cols] (cols = min(F, `columns`); the
// cells past F take the strip's minimum so they do not widen the range.
torch::Tensor flat_to_strip(const torch::Tensor& flat, std::int64_t columns = 64);

// float [K, C, H, W] -> uint8 [K, C, H, W]: (v - lo) / (hi - lo) * 255, rounded, where lo/hi are
// taken per channel over all K models and pixels (kChannel) or over the whole tensor (kLayer).
// A constant range maps to 0.
torch::Tensor maps_to_uint8(const torch::Tensor& maps, MapNormalize mode);

// uint8 [..., H, W] -> uint8 [..., 3, H, W] through the named colour map (io/image_io.h), or
// [..., 1, H, W] for "gray". Runs on the input's device.
torch::Tensor colorize(const torch::Tensor& u8, const std::string& colormap);

// Nearest-neighbour upscaling of [..., H, W] by an integer factor >= 1.
torch::Tensor upscale_nearest(const torch::Tensor& images, int scale);

// The smallest integer factor that makes max(h, w) * factor >= min_side (at least 1).
int auto_scale(std::int64_t h, std::int64_t w, int min_side);

// What a layer computes, in words for picture titles: "conv2d 3×3 + batch norm + relu",
// "conv2d 3×3, stride 2", "maxpool2d 2×2", "dense + relu", "residual (3 layers)", "flatten".
std::string describe_layer(const BuiltLayer& layer);

}  // namespace cnnkit
