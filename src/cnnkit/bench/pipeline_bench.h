// `cnnkit data --bench`: batch assembly (gather, transfer, float, normalise, augment) over
// shuffled training batches, timed against the training step of the config's model (the one
// TrainStep, with the config's optimizer) on such batches.
#pragma once
#include <cstdint>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "cnnkit/config/config.h"
#include "cnnkit/data/dataset.h"

namespace cnnkit {

// Times each part for about `seconds`. Returns images/s of both and the pipeline's share of
// a serial step. Throws ConfigError when the model's outputs do not match the data's classes.
nlohmann::json benchmark_pipeline(const Config& config, const Datasets& data, c10::Device device,
                                  std::int64_t batch_size, std::int64_t seed, double seconds);

}  // namespace cnnkit
