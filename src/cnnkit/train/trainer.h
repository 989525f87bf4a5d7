// `cnnkit train` as a library call: config -> data -> model -> the training loop with its
// observers (run directory files, checkpoints, curves, progress, policies) -> the final test.
// Resume continues from a checkpoint with model, optimizer, schedule, epoch and RNG state, so
// with the same seed the result equals an uninterrupted run (on the CPU).
//
// Data-parallel (options.launch.distributed()): every rank calls train_model with the same
// config; it connects to the others (dist::Context), rank 0 alone owns the run directory (lock,
// files, checkpoints) and the others write nothing; see train/data_parallel.h for the rules and
// docs/distributed.md. Every rank returns the same TrainResult.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "cnnkit/config/config.h"
#include "cnnkit/data/dataset.h"
#include "cnnkit/dist/context.h"
#include "cnnkit/dist/launch_env.h"
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
  // This process's place in a data-parallel run (dist::detect_launch); one process by default.
  dist::LaunchInfo launch;
  dist::ContextOptions dist;  // backend and timeouts (the device is the training device)
};

struct TrainResult {
  std::string run_dir;
  int epochs_completed = 0;
  bool early_stopped = false;
  nlohmann::json test;  // final evaluation on the test split (EvalResult::to_json; "tta" inside with TTA)
  std::string weights;  // the weight set it used: "raw" or e.g. "ema"
  nlohmann::json distributed;  // world size, backend, global batch, ... (final.json's "distributed")
};

TrainResult train_model(const Config& config, TrainOptions options, c10::Device device);

}  // namespace cnnkit
