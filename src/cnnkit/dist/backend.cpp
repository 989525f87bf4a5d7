#include "cnnkit/dist/backend.h"

#include <torch/cuda.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>

#if defined(USE_C10D_GLOO) && __has_include(<gloo/config.h>)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#define CNNKIT_HAS_GLOO 1
#endif
#if defined(USE_C10D_NCCL) && __has_include(<torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#define CNNKIT_HAS_NCCL 1
#endif

#include "cnnkit/core/error.h"
#include "cnnkit/dist/dist_error.h"
#include "cnnkit/dist/rendezvous.h"

namespace cnnkit::dist::detail {
namespace {

template <class ProcessGroup>
class BackendOf final : public Backend {
 public:
  BackendOf(c10::intrusive_ptr<ProcessGroup> pg, std::string name) : pg_(std::move(pg)), name_(std::move(name)) {}
  ~BackendOf() override {
    if (leaked_) pg_.release();  // the reference is dropped on purpose (see leak())
  }
  const std::string& name() const override { return name_; }
  c10::intrusive_ptr<c10d::Work> allreduce(std::vector<at::Tensor>& tensors, c10d::ReduceOp op) override {
    c10d::AllreduceOptions opts;
    opts.reduceOp = op;
    return pg_->allreduce(tensors, opts);
  }
  c10::intrusive_ptr<c10d::Work> broadcast(std::vector<at::Tensor>& tensors, int root) override {
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    return pg_->broadcast(tensors, opts);
  }
  c10::intrusive_ptr<c10d::Work> barrier() override { return pg_->barrier(c10d::BarrierOptions()); }
  void leak() override { leaked_ = true; }

 private:
  c10::intrusive_ptr<ProcessGroup> pg_;
  std::string name_;
  bool leaked_ = false;
};

bool is_loopback(const std::string& addr) { return addr == "localhost" || addr == "::1" || addr.rfind("127.", 0) == 0; }

std::string rank_prefix(const LaunchInfo& launch) { return "rank " + std::to_string(launch.rank) + ": "; }

#ifdef CNNKIT_HAS_GLOO
std::unique_ptr<Backend> make_gloo(const c10::intrusive_ptr<c10d::Store>& store, const LaunchInfo& launch,
                                   const EnvMap& env, std::chrono::milliseconds timeout) {
  auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
  auto ifname = env.find("GLOO_SOCKET_IFNAME");
  if (ifname != env.end() && !ifname->second.empty()) {
    std::string list = ifname->second;
    size_t pos = 0;
    while (pos <= list.size()) {
      size_t comma = list.find(',', pos);
      std::string name = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      pos = comma == std::string::npos ? list.size() + 1 : comma + 1;
      if (name.empty()) continue;
      try {
        opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
      } catch (...) {
        throw UsageError(rank_prefix(launch) + "GLOO_SOCKET_IFNAME=" + list + ": cannot use interface '" + name +
                         "': " + clean_message(std::current_exception()));
      }
    }
  } else if (is_loopback(launch.master_addr)) {
    // Every rank is on this host (they reach the store on loopback): keep Gloo there too.
    opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  } else {
    opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("gloo", store);
  auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, launch.rank, launch.world_size, opts);
  return std::make_unique<BackendOf<c10d::ProcessGroupGloo>>(std::move(pg), "gloo");
}
#endif

#ifdef CNNKIT_HAS_NCCL
std::unique_ptr<Backend> make_nccl(const c10::intrusive_ptr<c10d::Store>& store, const LaunchInfo& launch,
                                   std::chrono::milliseconds timeout) {
  auto opts = c10d::ProcessGroupNCCL::Options::create();
  opts->timeout = timeout;
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("nccl", store);
  auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, launch.rank, launch.world_size, opts);
  return std::make_unique<BackendOf<c10d::ProcessGroupNCCL>>(std::move(pg), "nccl");
}
#endif

}  // namespace

bool nccl_available() {
#ifdef CNNKIT_HAS_NCCL
  return true;
#else
  return false;
#endif
}

std::unique_ptr<Backend> make_backend(const std::string& requested, const torch::Device& device,
                                      const c10::intrusive_ptr<c10d::Store>& store, const LaunchInfo& launch,
                                      const EnvMap& env, std::chrono::milliseconds timeout) {
  std::string name = requested;
  if (name == "auto") {
    // NCCL refuses two ranks on one GPU: then Gloo (which stages CUDA tensors through the host).
    bool own_gpu = device.is_cuda() && launch.local_world_size <= static_cast<int>(torch::cuda::device_count());
    name = nccl_available() && own_gpu ? "nccl" : "gloo";
  }
  if (name != "gloo" && name != "nccl") {
    throw UsageError("distributed backend '" + requested + "': expected auto, gloo or nccl");
  }
  if (name == "nccl" && !nccl_available()) {
    throw UsageError("distributed backend nccl: this LibTorch was built without NCCL; use gloo");
  }
  if (name == "nccl" && !device.is_cuda()) {
    throw UsageError("distributed backend nccl: needs a CUDA device; got " + device.str());
  }
#ifndef CNNKIT_HAS_GLOO
  if (name == "gloo") throw UsageError("distributed backend gloo: this LibTorch was built without Gloo");
#endif
  try {
#ifdef CNNKIT_HAS_NCCL
    if (name == "nccl") return make_nccl(store, launch, timeout);
#endif
#ifdef CNNKIT_HAS_GLOO
    return make_gloo(store, launch, env, timeout);
#endif
  } catch (const Error&) {
    throw;
  } catch (...) {
    throw DistributedError(rank_prefix(launch) + "cannot create the " + name +
                           " process group: " + clean_message(std::current_exception()));
  }
  throw UsageError("distributed backend " + name + ": not available in this build");
}

}  // namespace cnnkit::dist::detail
