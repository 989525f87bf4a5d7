// `cnnkit train` as a library call: config -> data -> model -> the training loop with its
// observers (run directory files, checkpoints, curves, progress, policies) -> the final test.
// Resume continues from a checkpoint with model, optimizer, schedule, epoch and RNG state, so
// with the same seed the result equals an uninterrupted run (on the CPU).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "cnnkit/config/config.h"
#include "cnnkit/data/dataset.h"
#include "cnnkit/model/checkpoint.h"
#include "cnnkit/train/observer.h"

namespace cnnkit {

struct TrainOptions {
  std::string run_dir;     // where to write; empty -> the resumed run's, else a new runs/<name>-<time>
  bool overwrite = false;  // start afresh in a run_dir that already holds a run (its files are removed)
  DataLoadOptions data;    // --data-root
  const LoadedCheckpoint* resume = nullptr;
  // Observers of the caller's (e.g. JSON events on stdout), called after the registered ones.
  std::vector<std::unique_ptr<TrainingObserver>> observers;
};

struct TrainResult {
  std::string run_dir;
  int epochs_completed = 0;
  bool early_stopped = false;
  nlohmann::json test;  // final evaluation on the test split (EvalResult::to_json)
};

TrainResult train_model(const Config& config, TrainOptions options, c10::Device device);

}  // namespace cnnkit
