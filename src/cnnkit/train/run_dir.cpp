#include "cnnkit/train/run_dir.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <sstream>

#include "cnnkit/core/atomic_file.h"

namespace cnnkit {
namespace fs = std::filesystem;

std::string default_run_dir(const std::string& config_name) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  std::string base = "runs/" + config_name + "-" + stamp;
  std::string dir = base;
  for (int i = 1; fs::exists(dir); ++i) dir = base + "-" + std::to_string(i);
  return dir;
}

std::vector<std::string> metric_columns(const nlohmann::json& history) {
  // The known columns in their order; the monitoring columns are val_* with a validation split
  // and test_* without one (docs/training.md), ema_* with training.ema.
  static const std::vector<std::string> known = {
      "epoch",           "train_loss",        "train_accuracy", "val_loss",      "val_accuracy",
      "test_loss",       "test_accuracy",     "ema_val_loss",   "ema_val_accuracy", "ema_test_loss",
      "ema_test_accuracy", "lr",              "seconds",        "images_per_second"};
  if (history.empty()) return {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
                               "lr",    "seconds",    "images_per_second"};
  std::vector<std::string> cols, extra;
  for (const auto& c : known)
    for (const auto& r : history)
      if (r.contains(c)) {
        cols.push_back(c);
        break;
      }
  for (const auto& r : history)
    for (auto it = r.begin(); it != r.end(); ++it)
      if (std::find(known.begin(), known.end(), it.key()) == known.end() &&
          std::find(extra.begin(), extra.end(), it.key()) == extra.end())
        extra.push_back(it.key());
  cols.insert(cols.end(), extra.begin(), extra.end());
  return cols;
}

void write_metrics_files(const std::string& dir, const nlohmann::json& history) {
  std::ostringstream jsonl, csv;
  const auto cols = metric_columns(history);
  for (std::size_t i = 0; i < cols.size(); ++i) csv << (i ? "," : "") << cols[i];
  csv << "\n";
  for (const auto& r : history) {
    jsonl << r.dump() << "\n";
    for (std::size_t i = 0; i < cols.size(); ++i) {
      csv << (i ? "," : "");
      if (r.contains(cols[i]) && !r[cols[i]].is_null()) csv << r[cols[i]].dump();
    }
    csv << "\n";
  }
  write_text_atomically(fs::path(dir) / "metrics.jsonl", jsonl.str());
  write_text_atomically(fs::path(dir) / "metrics.csv", csv.str());
}

}  // namespace cnnkit
