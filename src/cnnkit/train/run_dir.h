// A run directory holds everything about one training run:
//   config.json (resolved), summary.txt / summary.json, metrics.jsonl and metrics.csv (one row
//   per epoch), best.pt and last.pt (checkpoints), curves.png, final.json (test metrics).
// Every file is written atomically and rewritten whole, so a crash leaves the previous version.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cnnkit {

// runs/<config-name>-<YYYYmmdd-HHMMSS>, made unique with a suffix when it exists.
std::string default_run_dir(const std::string& config_name);

class MetricsLog {
 public:
  explicit MetricsLog(std::string dir) : dir_(std::move(dir)) {}
  void set_history(nlohmann::json rows) { rows_ = std::move(rows); }
  const nlohmann::json& rows() const { return rows_; }
  // Appends one epoch's row and rewrites metrics.jsonl and metrics.csv.
  void append(const nlohmann::json& row);

 private:
  std::string dir_;
  nlohmann::json rows_ = nlohmann::json::array();
};

// Column order of metrics.csv (and the keys of each JSON Lines row).
const std::vector<std::string>& metric_columns();

}  // namespace cnnkit
