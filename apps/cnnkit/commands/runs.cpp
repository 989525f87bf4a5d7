// cnnkit runs [DIR] [--json]: a table of the run directories in DIR (default ./runs), read from
// the files they hold: status, epochs, best validation accuracy, test accuracy, time, speed.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cnnkit/core/strings.h"
#include "cnnkit/train/run_index.h"
#include "commands/commands.h"
#include "options.h"

namespace cnnkit {

namespace {

std::string percent(const std::optional<double>& v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", 100 * *v);
  return buf;
}

std::string duration(const std::optional<double>& seconds) {
  if (!seconds) return "-";
  const long s = static_cast<long>(*seconds + 0.5);
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%lds", s);
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  return buf;
}

std::string started_short(const std::string& iso) {  // 2024-05-01T12:30:05+0200 -> 2024-05-01 12:30
  if (iso.size() < 16) return iso.empty() ? "-" : iso;
  return iso.substr(0, 10) + " " + iso.substr(11, 5);
}

std::string format_table(const std::vector<RunRow>& rows) {
  std::vector<std::vector<std::string>> cells = {
      {"RUN", "CONFIG", "STATUS", "EPOCHS", "BEST VAL", "TEST", "TIME", "IMAGES/S", "PRECISION", "STARTED"}};
  for (const auto& r : rows) {
    const std::string best =
        r.best_val_accuracy ? percent(r.best_val_accuracy) + " (" + std::to_string(r.best_epoch) + ")" : "-";
    const std::string epochs = r.status == "damaged" && r.epochs_planned == 0
                                   ? "-"
                                   : std::to_string(r.epochs_done) + "/" + std::to_string(r.epochs_planned);
    cells.push_back({r.name, r.config.empty() ? "-" : r.config, r.status, epochs, best, percent(r.test_accuracy),
                     duration(r.wall_seconds ? r.wall_seconds : r.train_seconds),
                     r.images_per_second ? with_commas(static_cast<std::int64_t>(*r.images_per_second + 0.5)) : "-",
                     r.precision.empty() ? "-" : r.precision, started_short(r.started)});
  }
  std::vector<std::size_t> width(cells[0].size(), 0);
  for (const auto& row : cells)
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  std::string out;
  for (const auto& row : cells) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  for (const auto& r : rows)
    if (!r.problem.empty()) out += r.name + ": damaged: " + r.problem + "\n";
  return out;
}

}  // namespace

Command register_runs(CLI::App& app, const GlobalOptions&) {
  struct Options {
    std::string dir = kRunsDir;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  auto* sub = app.add_subcommand("runs", "Compare training runs: status, epochs, accuracy, time, speed (one row per run)");
  auto* dir = sub->add_option("dir", o->dir, "Folder of run directories, or one run directory")->capture_default_str();
  add_json_flag(sub, o->json, "Print a JSON array of the rows on stdout");
  return {sub, [o, dir]() {
            // No ./runs yet is not an error: nothing has been trained here. A folder named on the
            // command line that is not there is (index_runs throws).
            std::error_code ec;
            const bool none_yet = dir->count() == 0 && !std::filesystem::exists(o->dir, ec);
            const auto rows = none_yet ? std::vector<RunRow>{} : index_runs(o->dir);
            if (o->json) {
              nlohmann::json out = nlohmann::json::array();
              for (const auto& r : rows) out.push_back(r.to_json());
              std::cout << out.dump(2) << "\n";
            } else if (none_yet) {
              std::cout << "no runs in ./" << kRunsDir << " yet (cnnkit train --config NAME writes them there)\n";
            } else if (rows.empty()) {
              std::cout << "no runs in " << o->dir << "\n";
            } else {
              std::cout << format_table(rows);
            }
            return 0;
          }};
}

}  // namespace cnnkit
