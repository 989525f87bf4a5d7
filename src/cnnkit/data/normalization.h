// Per-channel normalisation statistics on [0, 1] pixel values.
// The config's data.normalize is "auto" (mean/std of the training split, computed when the data
// loads), "none" (mean 0, std 1) or explicit {"mean": [...], "std": [...]}. The resolved numbers
// are what a checkpoint stores, so evaluate/predict need no training data.
#pragma once
#include <optional>

#include <nlohmann/json.hpp>

#include "cnnkit/config/config.h"
#include "cnnkit/data/dataset.h"

namespace cnnkit {

// Exact per-channel mean and (population) std of uint8 images [N, C, H, W], on [0, 1].
// One pass over the bytes with exact integer sums, in parallel.
Normalization compute_normalization(const torch::Tensor& images_u8);

// The numbers the config states: explicit values, or mean 0 / std 1 for "none".
// nullopt for "auto" (they depend on the training data: use resolve_normalization).
// Throws ConfigError when the config has no data section.
std::optional<Normalization> normalization_from_config(const Config& config);

// The resolved normalisation: normalization_from_config, or computed from `train` for "auto".
Normalization resolve_normalization(const Config& config, const ImageSet& train);

// Pixel statistics made usable for "auto": a constant channel (std 0) gets std 1.
Normalization auto_normalization(Normalization pixel_stats);

// {"mean": [...], "std": [...]} and back (the checkpoint's form). from_json throws DataError
// for a malformed object or a non-positive std.
nlohmann::json normalization_to_json(const Normalization& n);
Normalization normalization_from_json(const nlohmann::json& j);

}  // namespace cnnkit
