// Data-parallel gradient averaging, overlapped with backward: our replacement for c10d's
// Reducer (not usable with Debian's headers).
//
// Gradients are copied into flat buckets (bucket_plan.h: reverse registration order, ~1 MiB
// first bucket, then ~25 MiB) by post-hooks on the parameters' gradient accumulators, i.e. as
// backward produces them. A bucket whose gradients are all ready is divided by the world size
// and all-reduced (SUM; Gloo has no AVG) asynchronously at once, buckets strictly in order so
// that every rank issues the same collectives in the same order. finish_gradient_sync() issues
// what is left, waits, and copies the averages back into the parameters' .grad.
//
// Each bucket also carries one usage flag per parameter (1 when the rank has a gradient for
// it), so a parameter without a gradient on some ranks (unused in this step's graph) gets the
// average over all ranks, with zeros where it had none, and keeps an undefined .grad only
// when no rank has one: every rank ends with the same gradients, so the optimizer keeps the
// parameters bit-identical across ranks.
//
// Use, per optimizer step (the order the trainer's TrainStep should follow):
//     ctx->broadcast_buffers(*model);       // batch-norm statistics from rank 0 (if any)
//     optimizer.zero_grad();
//     loss = forward(...)
//     sync.prepare_for_backward(loss);      // arm the hooks for the next backward
//     loss.backward();                      // buckets leave as they fill
//     sync.finish_gradient_sync();          // wait; .grad now holds the average over ranks
//     clip_grad_norm(...); optimizer.step();
// Gradient accumulation over micro-batches: call prepare_for_backward() only before the LAST
// backward of the step (earlier backwards then just accumulate locally, like DDP's no_sync()).
// A second backward after prepare_for_backward() is also handled (the buckets it changes are
// reduced again in finish_gradient_sync()), at the cost of that extra communication.
// finish_gradient_sync() without prepare_for_backward() reduces everything synchronously.
//
// Requires: the parameters are leaves on their final device, dtype and memory format (create
// the GradientSync after moving the model); dense gradients; the same parameter list on every
// rank (check with Context::broadcast_parameters_and_buffers first).
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "cnnkit/dist/bucket_plan.h"
#include "cnnkit/dist/context.h"

namespace cnnkit::dist {

struct GradientSyncStats {
  int64_t steps = 0;                // finish_gradient_sync() calls
  int64_t bytes_per_step = 0;       // bytes all-reduced per step and rank (gradients + flags)
  double last_wait_seconds = 0;     // blocked in the last finish_gradient_sync()
  double total_wait_seconds = 0;    // blocked in all of them
  int64_t early_launches = 0;       // buckets launched from backward hooks (overlapped), all steps
  int64_t late_launches = 0;        // buckets launched by finish_gradient_sync() (not overlapped)
  int64_t repeated_reductions = 0;  // buckets reduced twice because backward ran twice
};

class GradientSync {
 public:
  // `parameters`: the model's parameters in registration order (model->parameters());
  // those that do not require grad are ignored.
  GradientSync(std::shared_ptr<Context> context, const std::vector<torch::Tensor>& parameters,
               const BucketOptions& options = {});
  ~GradientSync();
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;

  void prepare_for_backward();
  // Same, and walks `loss`'s autograd graph: parameters it cannot reach get no gradient from
  // this backward, so they are marked ready at once (like DDP's find_unused_parameters=True)
  // and cannot hold back the bucket they share with used parameters.
  void prepare_for_backward(const torch::Tensor& loss);
  // Throws DistributedError when a collective fails (a peer died or hangs).
  void finish_gradient_sync();

  const std::vector<Bucket>& buckets() const;
  GradientSyncStats stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cnnkit::dist
