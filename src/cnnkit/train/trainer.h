// The training loop: config -> data -> model -> epochs of shuffled, augmented batches ->
// per-epoch validation, metrics, checkpoints (best and last, atomic) and curves in a run
// directory. Resume continues from a checkpoint with model, optimizer, schedule, epoch and RNG
// state, so with the same seed the result equals an uninterrupted run (on the CPU).
// SIGINT/SIGTERM finish the current step, save last.pt and throw InterruptedError. A NaN or
// infinite loss throws TrainingError naming epoch and batch, keeping the last good checkpoint.
#pragma once
#include <optional>
#include <string>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "cnnkit/config/config.h"
#include "cnnkit/data/dataset.h"
#include "cnnkit/model/checkpoint.h"

namespace cnnkit {

struct TrainOptions {
  std::string run_dir;      // where to write; empty -> default_run_dir(config name)
  DataLoadOptions data;     // --data-root
  bool json_lines = false;  // also write each epoch's metrics line to stdout
  bool progress = true;     // progress bar / lines on stderr
  const LoadedCheckpoint* resume = nullptr;
};

struct TrainResult {
  std::string run_dir;
  int epochs_completed = 0;
  bool early_stopped = false;
  nlohmann::json test;  // final evaluation on the test split (EvalResult::to_json)
};

TrainResult train_model(const Config& config, const TrainOptions& options, c10::Device device);

}  // namespace cnnkit
