// The training loop: epochs of shuffled, augmented batches through the one TrainStep, the
// learning-rate schedule, validation after each epoch, interrupts, and the observers' calls.
// What happens around it (files, pictures, progress, policies) is in the observers.
//
// Requires: a prepared (or restored) TrainingRun.
// Ensures:  run.state.epoch == epochs, or fewer when a policy stopped the run; each epoch's row
//           is appended to run.history. SIGINT/SIGTERM: the current step finishes, the
//           observers' on_interrupt runs (last.pt is written) and InterruptedError is thrown.
//           A NaN or infinite loss throws TrainingError naming the epoch and batch.
//
// Data-parallel (`parallel` given, train/data_parallel.h): every rank runs this loop in step
// with the others: its shard of each global batch, the stop agreement after every step (SIGINT
// or SIGTERM on any rank stops all at the same step), the epoch's figures summed over ranks,
// a replica check after each epoch, and a barrier after each point where rank 0 saves.
#pragma once
#include "cnnkit/train/observer.h"
#include "cnnkit/train/train_step.h"
#include "cnnkit/train/training_run.h"

namespace cnnkit {

class DataParallel;

class TrainingLoop {
 public:
  TrainingLoop(TrainingRun& run, ObserverList& observers, DataParallel* parallel = nullptr);
  void run();
  // Evaluation options of this run (a data-parallel run evaluates a part of the split per rank).
  EvalOptions eval_options() const;

 private:
  double train_epoch(int epoch);  // returns the epoch's training seconds
  void end_epoch(int epoch, double seconds);
  bool stop_requested();
  [[noreturn]] void interrupt(int epoch, std::int64_t batch, const torch::Tensor& perm, double seconds);
  // The epoch so far over every rank: loss sum, correct, images.
  PartialEpoch epoch_sums();

  TrainingRun& run_;
  ObserverList& observers_;
  DataParallel* parallel_;
  TrainStep step_;
  EpochMeter meter_;
  std::string last_checkpoint_;
};

}  // namespace cnnkit
