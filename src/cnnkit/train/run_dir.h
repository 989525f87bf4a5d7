// A run directory holds everything about one training run:
//   config.json (resolved), summary.txt / summary.json, metrics.jsonl and metrics.csv (one row
//   per epoch), last.pt and (with a validation split) best.pt, curves.png, final.json (test metrics),
//   status.json (running / finished / interrupted / failed, start time, wall time).
// Every file is written atomically and rewritten whole, so a crash leaves the previous version.
// The files are written by the run's observers (train/observers/, viz/curves_observer.cpp).
//
// One process at a time: a run holds an exclusive lock on <dir>/.lock while it trains; the
// lock file names the process (pid) for people. RunDirLock::held() is the one test of "this
// run is being trained" (`cnnkit runs`).
// Next to the run directories, `latest` is a symlink to the most recently started run.
#pragma once
#include <optional>
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

// An exclusive lock on <dir>/.lock for the lifetime of the object (flock(2): the kernel
// releases it when the process ends, however it ends). Throws Error naming the holder when
// another process holds it.
class RunDirLock {
 public:
  explicit RunDirLock(const std::string& dir);
  ~RunDirLock();
  RunDirLock(const RunDirLock&) = delete;
  RunDirLock& operator=(const RunDirLock&) = delete;
  // Whether some process holds the lock of `dir` now (for `cnnkit runs`). Never blocks and
  // never creates the lock file.
  static bool held(const std::string& dir);
  static constexpr const char* kFileName = ".lock";

 private:
  int fd_ = -1;
};

// Column order of metrics.csv for these rows: epoch, train_loss, train_accuracy, the monitoring
// figures (val_loss, val_accuracy, or test_loss, test_accuracy when the run has no validation
// split; ema_* beside them with training.ema), lr, seconds, images_per_second, then any other
// key the rows hold.
std::vector<std::string> metric_columns(const nlohmann::json& history);

// Rewrites <dir>/metrics.jsonl and <dir>/metrics.csv from every row of `history`.
void write_metrics_files(const std::string& dir, const nlohmann::json& history);

// ---- status.json: {"status": "running" | "finished" | "interrupted" | "failed",
//   "started": first start (ISO 8601, local time), "session_started": this process's start,
//   "ended": last end, "wall_seconds": wall time of the sessions that ended, "pid", ...}.
// A status of "running" whose lock is free means the process died without saying so.
constexpr const char* kRunStatusFile = "status.json";
std::optional<nlohmann::json> read_run_status(const std::string& dir);  // nullopt when absent
void write_run_status(const std::string& dir, const nlohmann::json& status);
std::string iso_time_now();  // "2024-05-01T12:30:05+0200"

// ---- latest: <folder of the run>/latest -> <run>, a relative symlink replaced atomically
// (symlink to a temporary name, then rename), so readers see the old or the new run.
constexpr const char* kLatestRunLink = "latest";
// Points the `latest` link next to `run_dir` at it. Returns false (and changes nothing) when
// a file or folder that is not a symlink already has that name.
bool point_latest_at(const std::string& run_dir);
// The run `runs_dir`/latest names when it exists, else the run directory in `runs_dir` holding
// a checkpoint (best.pt or last.pt) that was written last; nullopt when there is none.
// The result is `runs_dir`/<name>.
std::optional<std::string> latest_run(const std::string& runs_dir = "runs");

}  // namespace cnnkit
