// `cnnkit runs`: a row per run directory, read from the files the runs already hold
// (config.json, status.json, metrics.jsonl, final.json and the run lock, train/run_dir.h).
// Nothing is loaded, evaluated or trained, and no run is changed. A run whose files cannot be
// read is a row with status "damaged" and the reason, never an exception.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cnnkit {

struct RunRow {
  std::string name;     // the folder's name
  std::string path;
  std::string config;   // the config's name
  // finished | interrupted | running (its lock is held) | failed (ended by an error, or its
  // process died) | damaged (files missing or unreadable: see `problem`)
  std::string status;
  std::string problem;
  int epochs_done = 0;
  int epochs_planned = 0;
  std::optional<double> best_val_accuracy;
  int best_epoch = 0;
  std::optional<double> test_accuracy;          // final.json: the final weights on the test split
  std::optional<double> wall_seconds;           // status.json: sessions' wall time (+ now, when running)
  std::optional<double> train_seconds;          // sum of the epochs' training time
  std::optional<double> images_per_second;      // training images / training time over all epochs
  std::string precision;                        // training.precision
  std::string started;                          // ISO 8601, "" when unknown

  nlohmann::json to_json() const;
};

// True when `dir` holds any file a run directory has (config.json, status.json, metrics.jsonl,
// final.json, best.pt, last.pt, lock).
bool is_run_dir(const std::string& dir);

RunRow read_run(const std::string& run_dir);

// The run directories directly inside `dir` (symlinks such as `latest` are skipped), oldest
// start first; or `dir` alone when it is itself a run directory. Throws UsageError when `dir`
// is not a folder.
std::vector<RunRow> index_runs(const std::string& dir);

}  // namespace cnnkit
