// The communicator of one rank in a data-parallel run: rendezvous through c10d's TCPStore, then
// a c10d process group (Gloo for CPU tensors; NCCL for CUDA tensors when the LibTorch in use
// was built with it), and the few collectives the trainer needs, each coalesced into flat
// buffers and each turning any c10d/Gloo failure into one DistributedError line that names this
// rank, the operation and what the other ranks reported.
//
// Requires: `launch` from detect_launch(); the same sequence of collective calls, with tensors
// of the same shapes and dtypes, on every rank (as for any c10d program).
// Ensures:  a failure or hang of a peer makes every collective here fail within about
//           `timeout` (plus up to 3 s, or timeout/2 if shorter, spent asking the store which
//           ranks are still alive);
//           the rendezvous fails within `rendezvous_timeout` when MASTER_ADDR:MASTER_PORT cannot be
//           reached (UsageError, exit 2) or when some rank never joins (DistributedError).
//
// On the normal path, end with barrier() before the Context goes away: rank 0 usually hosts the
// store, and ranks still using it would otherwise fail. (After a failure, just let it go.)
//
// While a Context lives, c10d's own log lines (glog) are silenced so that errors stay one
// line; set CNNKIT_DIST_DEBUG=1 to keep them.
#pragma once
#include <torch/nn/module.h>
#include <torch/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cnnkit/dist/launch_env.h"

namespace cnnkit::dist {

struct ContextOptions {
  // "auto" (NCCL for CUDA devices when compiled in and each local rank has its own GPU, else
  // Gloo), "gloo" or "nccl".
  std::string backend = "auto";
  // Where the tensors handed to the collectives live (the training device).
  torch::Device device = torch::kCPU;
  // Per-collective timeout. A dead peer is usually noticed at once (its sockets close); a
  // stuck peer after this long.
  std::chrono::milliseconds timeout = std::chrono::seconds(60);
  // Reaching MASTER_ADDR:MASTER_PORT (the client retries once a second) and waiting for every
  // rank to join.
  std::chrono::milliseconds rendezvous_timeout = std::chrono::seconds(60);
};

// Blocking time spent in this rank's collectives (what the trainer reports as communication
// wait), counted since the Context was made.
struct CommStats {
  double wait_seconds = 0;  // time blocked waiting for collectives to complete
  int64_t collectives = 0;  // collectives issued
  int64_t bytes = 0;        // payload bytes issued (per rank, before the algorithm's traffic)
};

// An all-reduce in flight (see Context::all_reduce_async). Move-only; dropping it without
// wait() is allowed (the process group still completes it).
class PendingOp {
 public:
  PendingOp();
  ~PendingOp();
  PendingOp(PendingOp&&) noexcept;
  PendingOp& operator=(PendingOp&&) noexcept;
  bool valid() const { return state_ != nullptr; }

 private:
  friend class Context;
  struct State;
  std::unique_ptr<State> state_;
};

class Context {
 public:
  // Connects to the other ranks. Throws UsageError when the store cannot be reached or hosted,
  // or for an unknown/unavailable backend; DistributedError when the rendezvous times out.
  static std::shared_ptr<Context> create(const LaunchInfo& launch, const ContextOptions& options = {});
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  int rank() const;
  int world_size() const;
  int local_rank() const;
  int local_world_size() const;
  bool is_root() const { return rank() == 0; }
  const std::string& backend() const;  // "gloo" or "nccl"
  const LaunchInfo& launch() const;
  std::chrono::milliseconds timeout() const;

  // Rank 0's values overwrite the tensors of every other rank (in place, without recording
  // autograd history). Coalesced into flat buffers per dtype of at most 250 MiB.
  void broadcast(const std::vector<torch::Tensor>& tensors);
  // At start: checks that every rank built the same parameters and buffers (count, shapes,
  // dtypes; ConfigError otherwise), then broadcasts them from rank 0.
  void broadcast_parameters_and_buffers(const torch::nn::Module& module);
  // Each step, before forward: rank 0's buffers (batch-norm running statistics) to all ranks,
  // as PyTorch's DDP does with broadcast_buffers=True. No communication for a module without
  // buffers.
  void broadcast_buffers(const torch::nn::Module& module);

  // In-place sum over ranks, coalesced per dtype (eval counts, loss sums).
  void all_reduce_sum(const std::vector<torch::Tensor>& tensors);
  // Sums of plain numbers over ranks, in float64.
  std::vector<double> sum_across_ranks(const std::vector<double>& values);
  // True on every rank if any rank passed true (e.g. one rank got SIGINT): all ranks then
  // stop at the same step. One tiny all-reduce.
  bool any_rank_stopping(bool stop_here);
  // Throws ConfigError on every rank when `values` differ across ranks.
  void check_same_across_ranks(const std::vector<int64_t>& values, const std::string& what);
  void barrier();

  // Asynchronous in-place SUM all-reduce of one contiguous tensor (used by GradientSync);
  // `what` names it in error messages ("gradient bucket 3").
  PendingOp all_reduce_async(const torch::Tensor& flat, const std::string& what);
  // Waits for `op`; returns the seconds spent blocked. Throws DistributedError on failure.
  double wait(PendingOp& op);

  CommStats stats() const;

  // Turns a failure of a c10d call into a DistributedError naming this rank, `operation` and
  // what the other ranks reported through the store. Marks the Context as failed (its process
  // group is then leaked at destruction instead of joined, so that a dead peer cannot hang the
  // exit).
  [[noreturn]] void fail(const std::string& operation, std::exception_ptr cause);

  struct Impl;

 private:
  explicit Context(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cnnkit::dist
