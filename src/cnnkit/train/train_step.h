// The one training step (DESIGN.md): forward (channels-last, bf16 autocast as configured),
// cross-entropy with label smoothing, non-finite check, backward, gradient clipping, optimizer
// step. `train`, `bench` and `cnnkit data --bench` all run this code, so what bench measures
// is what training runs.
//
// Data-parallel training adds one thing here: a GradientSync (train/data_parallel.h), told
// before forward (batch-norm buffers from rank 0) and before backward (arm the gradient
// buckets), and asked to finish (average the gradients across processes) before clipping and
// the optimizer step. A rank's shard of the global batch may be smaller than the others' (or
// empty): its loss is weighted so that the average over ranks is the global batch's gradient.
#pragma once
#include <cstdint>
#include <string>

#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include "cnnkit/core/error.h"
#include "cnnkit/model/model.h"
#include "cnnkit/train/training_config.h"

namespace cnnkit {

struct StepOptions {
  bool bf16 = false;
  bool channels_last = false;
  double label_smoothing = 0.0;
  double grad_clip = 0.0;        // max global L2 norm; 0 = off
  bool check_every_step = true;  // read the loss back every step (cheap on the CPU, a sync on CUDA)

  static StepOptions from(const TrainingConfig& tc, c10::Device device);
};

// Gradient synchronisation between data-parallel processes.
class GradientSync {
 public:
  virtual ~GradientSync() = default;
  virtual void before_forward() {}
  // Backward of `loss` starts next; `loss` is undefined when this rank has no images in the
  // step (it still takes part, with no gradient of its own).
  virtual void before_backward(const torch::Tensor& loss) = 0;
  virtual void after_backward() = 0;  // gradients must be final (averaged) on return
};

struct StepResult {
  torch::Tensor loss;    // scalar, float32, on the device (mean over the batch; 0 for an empty batch)
  torch::Tensor logits;  // [B, K] float32, detached
};

// Where a step is, for messages.
struct StepPosition {
  int epoch = 0;
  std::int64_t batch = 0;                        // 1-based
  const std::string* kept_checkpoint = nullptr;  // the last good checkpoint, named in errors
};

class TrainStep {
 public:
  TrainStep(Model& model, torch::optim::Optimizer& optimizer, StepOptions options);
  void set_gradient_sync(GradientSync* sync) { sync_ = sync; }
  // One optimizer step on a prepared batch (x on the device, y int64 labels on the device).
  // Backward runs on loss x `loss_weight` (data-parallel shards of unequal size; see
  // DataParallel::loss_weight); an empty batch (a rank without images in this step) runs no
  // forward and contributes no gradient, but still syncs and steps.
  // Throws TrainingError (non_finite_loss) when check_every_step finds a NaN or infinite loss.
  StepResult operator()(const torch::Tensor& x, const torch::Tensor& y, const StepPosition& where,
                        double loss_weight = 1.0);
  const StepOptions& options() const { return options_; }

 private:
  Model& model_;
  torch::optim::Optimizer& optimizer_;
  StepOptions options_;
  GradientSync* sync_ = nullptr;
};

// The error for a NaN or infinite loss, made in one place. `exact`: found at this very batch
// (else "at or before" it); the last good checkpoint is named when it exists.
TrainingError non_finite_loss(double value, const StepPosition& where, bool exact);

}  // namespace cnnkit
