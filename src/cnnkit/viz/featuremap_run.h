// `cnnkit featuremap` as a library call: load the model(s), the input image(s), capture the
// chosen layers' outputs, write the PNGs and return the manifest. See docs/featuremap.md for the
// file layout and every option.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

namespace cnnkit {

struct FeaturemapOptions {
  std::string checkpoint;            // file or run directory (its best.pt)
  std::string config;                // config file: the untrained model, or the data/model check
  std::vector<std::string> sets;     // --set overrides for `config`
  std::string data_root;             // for --index
  std::vector<std::string> images;   // --image
  std::vector<std::int64_t> indices; // --index into the test split (default: 0 when no image)
  std::vector<std::string> layers = {"0"};
  std::string out;                   // "" = <run dir>/featuremaps or ./featuremaps
  int scale = 0;                     // 0 = auto
  std::string normalize = "channel"; // channel | layer
  std::string colormap = "viridis";
  std::vector<std::string> compare;  // {A, B}: checkpoint/run dir or "untrained"
  bool filters = false;
};

// Requires: a checkpoint, a config, or a compare pair. Throws UsageError for bad options
// (layer out of range, unknown layer, index out of range), ImageIOError for an unreadable
// image, CheckpointError for a checkpoint that does not match the config, Error for an output
// folder that cannot be written. Returns {"model", "checkpoint", "out", "inputs", "files", ...}.
nlohmann::json run_featuremaps(const FeaturemapOptions& options, c10::Device device);

// The folder used when --out is not given: <run dir>/featuremaps for a checkpoint inside a run
// directory (it holds config.json or metrics.jsonl), else ./featuremaps.
std::string default_featuremap_dir(const std::string& checkpoint_path);

}  // namespace cnnkit
