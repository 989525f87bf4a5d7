// Internal to dist/: the c10d process group behind a small interface of our own. Holding the
// concrete ProcessGroupGloo/ProcessGroupNCCL through a template keeps the sources independent
// of their base class, which changed between LibTorch 1.13 (c10d::ProcessGroup) and 2.x
// (c10d::Backend); the methods called here exist with these signatures in both.
#pragma once
#include <torch/types.h>
#include <torch/csrc/distributed/c10d/Store.hpp>
#include <torch/csrc/distributed/c10d/Types.hpp>
#include <torch/csrc/distributed/c10d/Work.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "cnnkit/dist/launch_env.h"

namespace cnnkit::dist::detail {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const std::string& name() const = 0;
  virtual c10::intrusive_ptr<c10d::Work> allreduce(std::vector<at::Tensor>& tensors, c10d::ReduceOp op) = 0;
  virtual c10::intrusive_ptr<c10d::Work> broadcast(std::vector<at::Tensor>& tensors, int root) = 0;
  virtual c10::intrusive_ptr<c10d::Work> barrier() = 0;
  // Drops the process group without running its destructor (after a failure: joining its
  // threads could wait for a dead peer).
  virtual void leak() = 0;
};

// True when this build can create ProcessGroupNCCL.
bool nccl_available();

// `requested`: "auto", "gloo" or "nccl" (UsageError otherwise, or when unavailable for
// `device`). The Gloo device follows GLOO_SOCKET_IFNAME (comma-separated interfaces, as in
// PyTorch), else the loopback address when MASTER_ADDR is a loopback address, else Gloo's
// default (this host's name, falling back to loopback).
std::unique_ptr<Backend> make_backend(const std::string& requested, const torch::Device& device,
                                      const c10::intrusive_ptr<c10d::Store>& store, const LaunchInfo& launch,
                                      const EnvMap& env, std::chrono::milliseconds timeout);

}  // namespace cnnkit::dist::detail
