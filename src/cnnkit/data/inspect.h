// What `cnnkit data` shows: the human-readable description of loaded datasets and a labelled
// preview grid of training images (the pipeline benchmark is bench/pipeline_bench.h).
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "cnnkit/config/config.h"
#include "cnnkit/data/dataset.h"

namespace cnnkit {

// Datasets::description as aligned text.
std::string format_description(const nlohmann::json& description);

// uint8 RGB [3, H, W]: `n` training images (picked with `seed`, classes interleaved), each
// labelled with its class; after augmentation (train-mode BatchPipeline) when `augmented`.
torch::Tensor preview_grid(const Config& config, const Datasets& data, std::int64_t n, bool augmented,
                           std::int64_t seed);

}  // namespace cnnkit
