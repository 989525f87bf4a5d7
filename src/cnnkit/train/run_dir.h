// A run directory holds everything about one training run:
//   config.json (resolved), summary.txt / summary.json, metrics.jsonl and metrics.csv (one row
//   per epoch), best.pt and last.pt (checkpoints), curves.png, final.json (test metrics),
//   status.json (running / finished / interrupted / failed, start time, wall time) and lock
//   (held by the process that trains it).
// Every file is written atomically and rewritten whole, so a crash leaves the previous version.
// The files are written by the run's observers (train/observers/, viz/curves_observer.cpp).
// Next to the run directories, `latest` is a symlink to the most recently started run.
#pragma once
#include <optional>
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

// ---- The run lock: <dir>/lock, locked with flock(2) by the process that trains the run for
// as long as it trains (the kernel releases it when the process ends, however it ends). The
// file holds the pid, for messages.
std::string run_lock_path(const std::string& dir);

class RunLock {
 public:
  // Takes the lock, or throws TrainingError "<dir>: run directory is in use (pid N is training it)".
  explicit RunLock(const std::string& dir);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

// True while some process holds the run's lock: the run is being trained. This is the one
// test of "running"; it never blocks and never creates the lock file.
bool run_is_locked(const std::string& dir);

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
