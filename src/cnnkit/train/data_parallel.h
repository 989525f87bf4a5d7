// Data-parallel training (docs/distributed.md): several processes ("ranks") train one model,
// each on its own shard of every batch, and average their gradients before every optimizer
// step (dist::GradientSync), so that every rank holds the same parameters at every step.
// This is the trainer's side of it; the communication itself is dist/.
//
// The rules it implements:
//  - training.batch_size is the GLOBAL batch: batch b of an epoch is the same images on any
//    number of ranks, and rank r of W trains on part r of it (shard(): contiguous, sizes
//    differing by at most one; a rank may get none). Its loss is weighted by
//    n_r * W / n (loss_weight()) so that the average over ranks is the global batch's gradient.
//    So the learning rate, the schedule and the steps per epoch do not depend on W.
//  - Every rank draws the same per-epoch permutation from the run's generator, which in a
//    data-parallel run draws nothing else; augmentation and dropout draw from generators seeded
//    each step from (seed, step, rank) (seed_step()), so a run is a function of its seed and W,
//    and a resume continues it exactly.
//  - Batch-norm buffers come from rank 0 before every forward (and before evaluation); during
//    training each rank normalises with the statistics of its own shard (no SyncBatchNorm).
//  - Evaluation: each rank evaluates a part of the split and the sums are added
//    (eval_options()); the epoch's training loss and accuracy are every rank's sums added.
//  - Policies see identical figures on every rank and so decide alike; observers that write
//    run on rank 0 only.
#pragma once
#include <ATen/core/Generator.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cnnkit/dist/context.h"
#include "cnnkit/dist/gradient_sync.h"
#include "cnnkit/dist/launch_env.h"
#include "cnnkit/eval/evaluator.h"
#include "cnnkit/train/train_step.h"

namespace cnnkit {

// The images [begin, end) of a batch of n images that rank `rank` of `world` trains on.
std::pair<std::int64_t, std::int64_t> shard_of(std::int64_t n, int rank, int world);

// A fingerprint of the exact bits of every parameter and buffer (two int64 values): ranks
// compare it to prove they hold the same model.
std::vector<std::int64_t> replica_checksum(const torch::nn::Module& module);

class DataParallel : public GradientSync {
 public:
  // Connects to the other ranks (dist::Context::create: rendezvous, process group on `device`).
  static std::unique_ptr<DataParallel> create(const dist::LaunchInfo& launch, const dist::ContextOptions& options);
  ~DataParallel() override;

  int rank() const { return ctx_->rank(); }
  int world_size() const { return ctx_->world_size(); }
  bool is_root() const { return ctx_->is_root(); }
  dist::Context& context() { return *ctx_; }

  // Runs `setup` on every rank and agrees on its outcome: when it throws on some rank, that rank
  // rethrows it and every other rank throws an Error with the same exit code saying which rank
  // failed, instead of waiting for it in the next collective.
  void agree(const std::function<void()>& setup);
  // Rank 0's value of `text` on every rank (e.g. the run directory it chose).
  std::string broadcast_string(const std::string& text);

  // After the model is built, moved and restored, before training: checks that every rank
  // built the same model, broadcasts rank 0's parameters and buffers, and attaches the gradient
  // buckets (dist::BucketOptions: 1 MiB first, then 25 MiB).
  void attach(Model& model, const dist::BucketOptions& buckets = {});

  // --- the step ---
  std::pair<std::int64_t, std::int64_t> shard(std::int64_t n) const { return shard_of(n, rank(), world_size()); }
  double loss_weight(std::int64_t mine, std::int64_t all) const;
  // Seeds this rank's augmentation generator (returned) and the dropout generators of the CPU and
  // `device` for optimizer step `step`.
  at::Generator& seed_step(std::uint64_t seed, std::int64_t step, c10::Device device);
  void before_forward() override;
  void before_backward(const torch::Tensor& loss) override;
  void after_backward() override;
  // True on every rank when any rank got SIGINT/SIGTERM (`here`): all stop at the same step.
  bool any_rank_stopping(bool here) { return ctx_->any_rank_stopping(here); }

  // --- between steps ---
  std::vector<double> sum(const std::vector<double>& values) { return ctx_->sum_across_ranks(values); }
  void broadcast_buffers();  // rank 0's batch-norm statistics, before evaluating or saving
  // Every rank must hold the same bits; a difference is a DistributedError naming `when`.
  void check_replicas(const std::string& when);
  EvalOptions eval_options(EvalOptions base);
  void barrier() { ctx_->barrier(); }

  // Bytes broadcast before every forward (batch-norm buffers), per step.
  std::int64_t buffer_bytes_per_step() const;
  // What final.json and the checkpoints record: world size, backend, launcher, the global batch
  // and the largest per-process shard of it, threads per process.
  nlohmann::json describe(std::int64_t global_batch) const;
  dist::GradientSyncStats gradient_stats() const;
  const std::vector<dist::Bucket>& gradient_buckets() const;  // empty before attach()

 private:
  DataParallel(std::shared_ptr<dist::Context> ctx, c10::Device device);
  std::shared_ptr<dist::Context> ctx_;
  c10::Device device_;
  std::unique_ptr<dist::GradientSync> grads_;
  torch::nn::Module* module_ = nullptr;
  at::Generator augment_gen_;
};

}  // namespace cnnkit
