// Per-channel normalisation statistics on [0, 1] pixel values.
// The config's data.normalize is "auto" (mean/std of the training split, computed when the data
// loads), "none" (mean 0, std 1) or explicit {"mean": [...], "std": [...]}. The resolved numbers
// are what a checkpoint stores, so evaluate/predict need no training data.
#pragma once
#include <optional>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "cnnkit/config/config.h"
#include "cnnkit/data/dataset.h"

namespace cnnkit {

// Exact per-channel mean and (population) std of uint8 images [N, C, H, W], on [0, 1].
// One pass over the bytes with exact integer sums, in parallel.
Normalization compute_normalization(const torch::Tensor& images_u8);

// The numbers the config states: explicit values, or mean 0 / std 1 for "none".
// nullopt for "auto" (they depend on the training data: see load_datasets).
// Throws ConfigError when the config has no data section.
std::optional<Normalization> normalization_from_config(const Config& config);

// Pixel statistics made usable for "auto": a constant channel (std 0) gets std 1.
Normalization auto_normalization(Normalization pixel_stats);

// Throws DataError "<what>: ..." unless mean and std are non-empty, of equal length, finite, and
// every std is positive.
void check_normalization(const Normalization& n, const std::string& what);

// The arithmetic of normalisation, in one place: x = (u8 / 255 - mean) / std, computed as
// u8 * scale - shift with per-channel [1, C, 1, 1] float tensors on the device.
struct NormalizationMap {
  torch::Tensor scale, shift;
};
NormalizationMap normalization_map(const Normalization& n, c10::Device device);
// uint8 [B, C, H, W] -> normalised float on the map's device.
torch::Tensor normalize_images(const torch::Tensor& images_u8, const NormalizationMap& map);
// The inverse, for showing normalised (e.g. augmented) images: float -> uint8 on [0, 255].
torch::Tensor denormalize_images(const torch::Tensor& x, const NormalizationMap& map);

// {"mean": [...], "std": [...]} and back (the checkpoint's form). from_json throws DataError
// for a malformed object or a non-positive std.
nlohmann::json normalization_to_json(const Normalization& n);
Normalization normalization_from_json(const nlohmann::json& j);

}  // namespace cnnkit
