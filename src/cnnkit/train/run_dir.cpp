#include "cnnkit/train/run_dir.h"

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

const std::vector<std::string>& metric_columns() {
  static const std::vector<std::string> cols = {"epoch",        "train_loss", "train_accuracy", "val_loss",
                                                "val_accuracy", "lr",         "seconds",        "images_per_second"};
  return cols;
}

void write_metrics_files(const std::string& dir, const nlohmann::json& history) {
  std::ostringstream jsonl, csv;
  const auto& cols = metric_columns();
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
