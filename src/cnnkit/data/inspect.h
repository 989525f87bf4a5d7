// What `cnnkit data` shows: the human-readable description of loaded datasets, a labelled
// preview grid of training images, and a benchmark of the batch pipeline against a training
// step of the config's model.
#pragma once
#include <cstdint>
#include <string>

#include <c10/core/Device.h>
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

// Times batch assembly (gather + transfer + float + normalise + augment) over shuffled training
// batches for about `seconds`, then a training step (forward, cross-entropy, backward, SGD) of
// the config's model on such batches. Returns images/s of both and their ratio.
nlohmann::json benchmark_pipeline(const Config& config, const Datasets& data, c10::Device device,
                                  std::int64_t batch_size, std::int64_t seed, double seconds);

}  // namespace cnnkit
