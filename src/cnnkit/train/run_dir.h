// A run directory holds everything about one training run:
//   config.json (resolved), summary.txt / summary.json, metrics.jsonl and metrics.csv (one row
//   per epoch), best.pt and last.pt (checkpoints), curves.png, final.json (test metrics).
// Every file is written atomically and rewritten whole, so a crash leaves the previous version.
// The files are written by the run's observers (train/observers/, viz/curves_observer.cpp).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cnnkit {

// runs/<config-name>-<YYYYmmdd-HHMMSS>, made unique with a suffix when it exists.
std::string default_run_dir(const std::string& config_name);

// Column order of metrics.csv (and the keys of each JSON Lines row).
const std::vector<std::string>& metric_columns();

// Rewrites <dir>/metrics.jsonl and <dir>/metrics.csv from every row of `history`.
void write_metrics_files(const std::string& dir, const nlohmann::json& history);

}  // namespace cnnkit
