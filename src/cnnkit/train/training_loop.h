// The training loop: epochs of shuffled, augmented batches through the one TrainStep, the
// learning-rate schedule, validation after each epoch, interrupts, and the observers' calls.
// What happens around it (files, pictures, progress, policies) is in the observers.
//
// Requires: a prepared (or restored) TrainingRun.
// Ensures:  run.state.epoch == epochs, or fewer when a policy stopped the run; each epoch's row
//           is appended to run.history. SIGINT/SIGTERM: the current step finishes, the
//           observers' on_interrupt runs (last.pt is written) and InterruptedError is thrown.
//           A NaN or infinite loss throws TrainingError naming the epoch and batch.
#pragma once
#include "cnnkit/train/observer.h"
#include "cnnkit/train/train_step.h"
#include "cnnkit/train/training_run.h"

namespace cnnkit {

class TrainingLoop {
 public:
  TrainingLoop(TrainingRun& run, ObserverList& observers);
  void set_gradient_sync(GradientSync* sync) { step_.set_gradient_sync(sync); }
  void run();

 private:
  double train_epoch(int epoch);  // returns the epoch's training seconds
  void end_epoch(int epoch, double seconds);
  [[noreturn]] void interrupt(int epoch, std::int64_t batch, const torch::Tensor& perm, double seconds);

  TrainingRun& run_;
  ObserverList& observers_;
  TrainStep step_;
  EpochMeter meter_;
  std::string last_checkpoint_;
};

}  // namespace cnnkit
