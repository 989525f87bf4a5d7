// The "data" config section: which dataset, where it lives, how it is split, normalised and
// augmented. The resolver (data_config.cpp) validates the raw section and fills in every
// default, so the resolved config (and a checkpoint) states exactly what was used.
// DataConfig is the typed form of a *resolved* section. Every key is documented in docs/data.md.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cnnkit/config/config.h"

namespace cnnkit {

struct RandomCropOptions {
  std::int64_t padding = 4;
  std::string fill = "zero";  // "zero" | "reflect"
};

struct CutoutOptions {
  std::int64_t size = 8;     // side of the square, in pixels
  double probability = 1.0;  // chance that an image gets a square
};

// torchvision.transforms.RandomErasing semantics (applied after normalisation).
struct RandomErasingOptions {
  double probability = 0.5;
  double scale_min = 0.02, scale_max = 0.33;  // erased area / image area
  double ratio_min = 0.3, ratio_max = 3.3;    // box aspect ratio h/w (log-uniform)
  bool random_value = false;                  // true: N(0,1) noise; false: `value`
  double value = 0.0;
};

struct AugmentOptions {
  std::optional<RandomCropOptions> random_crop;
  bool horizontal_flip = false;
  std::optional<CutoutOptions> cutout;
  std::optional<RandomErasingOptions> random_erasing;
  bool any() const { return random_crop || horizontal_flip || cutout || random_erasing; }
};

constexpr std::int64_t kDefaultSplitSeed = 42;  // seeds the validation split and the limit_* subsets

// The keys every source takes; a source's own keys (data/source.h) are read by the source.
struct DataConfig {
  std::string source;  // a registered data source: mnist, cifar10, cifar100, folder, ...
  std::string root;
  double validation_split = 0.0;
  std::int64_t split_seed = kDefaultSplitSeed;
  std::string normalize_mode = "auto";  // "auto" | "none" | "fixed"
  std::vector<double> mean, std;        // "fixed" only
  AugmentOptions augment;
  std::int64_t limit_train = 0, limit_test = 0;  // 0 = all
  json section;                                  // the whole resolved section
};

// Reads a resolved "data" section. Throws ConfigError when the config has none.
DataConfig data_config_from(const Config& config);
// The typed form of a resolved section (as stored in the resolved config JSON).
DataConfig data_config_from_json(const json& resolved_section);
AugmentOptions augment_options_from_json(const json& resolved_augment);

}  // namespace cnnkit
