// A run directory holds everything about one training run:
//   config.json (resolved), summary.txt / summary.json, metrics.jsonl and metrics.csv (one row
//   per epoch), best.pt and last.pt (checkpoints), curves.png, final.json (test metrics).
// Every file is written atomically and rewritten whole, so a crash leaves the previous version.
// The files are written by the run's observers (train/observers/, viz/curves_observer.cpp).
//
// One process at a time: a run holds an exclusive lock on <dir>/.lock while it trains; the
// lock file names the process (pid) for people and for `cnnkit runs`.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cnnkit {

// Creates and returns a new run directory runs/<name>-<YYYYmmdd-HHMMSS>[-N]: the name is made
// safe for a file name (never a path outside runs/), and a suffix makes it unique even when
// several runs start in the same second (the folder is created atomically).
std::string create_default_run_dir(const std::string& config_name);

// True when `dir` holds files of a run (a checkpoint, metrics or a config.json).
bool holds_run(const std::string& dir);

// The files a run writes, by name (used to clear a directory for --overwrite).
const std::vector<std::string>& run_file_names();

// An exclusive lock on <dir>/.lock for the lifetime of the object. Throws Error naming the
// holder when another process holds it.
class RunDirLock {
 public:
  explicit RunDirLock(const std::string& dir);
  ~RunDirLock();
  RunDirLock(const RunDirLock&) = delete;
  RunDirLock& operator=(const RunDirLock&) = delete;
  // Whether some process holds the lock of `dir` now (for `cnnkit runs`).
  static bool held(const std::string& dir);

 private:
  int fd_ = -1;
};

// Column order of metrics.csv (and the keys of each JSON Lines row).
const std::vector<std::string>& metric_columns();

// Rewrites <dir>/metrics.jsonl and <dir>/metrics.csv from every row of `history`.
void write_metrics_files(const std::string& dir, const nlohmann::json& history);

}  // namespace cnnkit
