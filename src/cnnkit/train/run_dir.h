// A run directory holds everything about one training run:
//   config.json (resolved), summary.txt / summary.json, metrics.jsonl and metrics.csv (one row
//   per epoch), last.pt and (with a validation split) best.pt, curves.png, final.json (test metrics).
// Every file is written atomically and rewritten whole, so a crash leaves the previous version.
// The files are written by the run's observers (train/observers/, viz/curves_observer.cpp).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cnnkit {

// runs/<config-name>-<YYYYmmdd-HHMMSS>, made unique with a suffix when it exists.
std::string default_run_dir(const std::string& config_name);

// Column order of metrics.csv for these rows: epoch, train_loss, train_accuracy, the monitoring
// figures (val_loss, val_accuracy, or test_loss, test_accuracy when the run has no validation
// split; ema_* beside them with training.ema), lr, seconds, images_per_second, then any other
// key the rows hold.
std::vector<std::string> metric_columns(const nlohmann::json& history);

// Rewrites <dir>/metrics.jsonl and <dir>/metrics.csv from every row of `history`.
void write_metrics_files(const std::string& dir, const nlohmann::json& history);

}  // namespace cnnkit
