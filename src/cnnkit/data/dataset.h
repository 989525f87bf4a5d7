// In-memory datasets (DESIGN.md): images as uint8 tensors [N, C, H, W] on the CPU, labels as
// int64 [N]. Batches are gathered by index; conversion to float, normalisation and
// augmentation happen per batch on the training device (see data/pipeline.h).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>
#include <nlohmann/json.hpp>

#include "cnnkit/config/config.h"

namespace cnnkit {

struct ImageSet {
  torch::Tensor images;  // uint8 [N, C, H, W], contiguous, CPU
  torch::Tensor labels;  // int64 [N], CPU
  std::int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

// Per-channel statistics on [0, 1].
struct Normalization {
  std::vector<double> mean;
  std::vector<double> std;
};

struct Datasets {
  ImageSet train;
  ImageSet validation;  // empty when the config asks for no validation split
  ImageSet test;
  std::vector<std::string> class_names;
  Normalization normalization;  // resolved: configured values, or computed from train ("auto")
  nlohmann::json description;   // what `cnnkit data` prints: source, files, counts, ...
};

// The data folder a trained run read: data.root as its config named it and the absolute
// folder it was found at (stored in checkpoints as meta "data_root").
struct TrainedDataRoot {
  std::string config;    // data.root of the run's config
  std::string resolved;  // absolute
};

// Where the data folder is (the first that applies):
//   1. --data-root DIR (relative to the current directory);
//   2. $CNNKIT_DATA;
//   3. the config's data.root: an absolute root as it is; a relative root is looked up
//      a. at the folder the run was trained on, when the config is that run's (trained_root,
//         and data.root was not changed),
//      b. against the config file's folder (not for a config stored in a checkpoint),
//      c. against the current directory;
//      the first existing folder wins. When none exists, the DataError lists every place
//      looked at and names --data-root.
struct DataLoadOptions {
  std::string data_root;  // --data-root; beats $CNNKIT_DATA, which beats the config's root
  bool need_train = true; // false: evaluate/predict load only the test split
  bool need_test = true;
  std::optional<TrainedDataRoot> trained_root;  // set when loading a trained run's own data
};

// Loads the splits the config's "data" section describes. Throws DataError naming the file
// (and record or byte offset) for missing, truncated or inconsistent data; ConfigError when
// the config has no data section.
Datasets load_datasets(const Config& config, const DataLoadOptions& options);

// The normalisation training would use, without loading the dataset when it can be avoided.
// `from`: "config" (fixed or none), "training split (cached)" (data/stats_cache.h) or
// "training split" (loaded now, and cached for next time).
struct TrainingNormalization {
  Normalization normalization;
  std::string from;
};
TrainingNormalization training_normalization(const Config& config, const DataLoadOptions& options);

}  // namespace cnnkit
