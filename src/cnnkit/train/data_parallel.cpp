#include "cnnkit/train/data_parallel.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cstring>
#include <mutex>

#include "cnnkit/core/error.h"
#include "cnnkit/dist/dist_error.h"

namespace cnnkit {
namespace {

// A rank that stops because another rank failed while setting up: it exits with that rank's
// code, so the launcher reports the same outcome whichever rank it hears from first.
class PeerSetupError : public Error {
 public:
  PeerSetupError(const std::string& what, int code) : Error(what), code_(code) {}
  int exit_code() const override { return code_; }

 private:
  int code_;
};

constexpr std::size_t kMaxBroadcastString = 4096;

// splitmix64: well-spread seeds from (seed, step, rank, stream).
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t step_seed(std::uint64_t seed, std::int64_t step, int rank, int stream) {
  return mix(mix(mix(seed) ^ static_cast<std::uint64_t>(step)) ^ (static_cast<std::uint64_t>(rank) << 8 | stream));
}

void set_seed(at::Generator gen, std::uint64_t seed) {
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_current_seed(seed);
}

}  // namespace

std::pair<std::int64_t, std::int64_t> shard_of(std::int64_t n, int rank, int world) {
  return {n * rank / world, n * (rank + 1) / world};
}

std::vector<std::int64_t> replica_checksum(const torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  std::int64_t plain = 0, weighted = 0;
  std::vector<torch::Tensor> tensors;
  for (const auto& p : module.parameters(true)) tensors.push_back(p);
  for (const auto& b : module.buffers(true))
    if (b.defined()) tensors.push_back(b);
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    // The raw bytes as int64 numbers (wrapping sums): any flipped bit changes the first sum, and
    // the position weights catch values swapped between places.
    auto bytes = tensors[i].detach().contiguous().cpu().view({-1}).view(torch::kUInt8).to(torch::kInt64);
    auto position = torch::arange(bytes.numel(), torch::kInt64).remainder(65521).add(1 + static_cast<std::int64_t>(i));
    plain += bytes.sum().item<std::int64_t>() * static_cast<std::int64_t>(i + 1);
    weighted += bytes.mul(position).sum().item<std::int64_t>();
  }
  return {plain, weighted};
}

DataParallel::DataParallel(std::shared_ptr<dist::Context> ctx, c10::Device device)
    : ctx_(std::move(ctx)), device_(device), augment_gen_(at::detail::createCPUGenerator(0)) {}

DataParallel::~DataParallel() = default;

std::unique_ptr<DataParallel> DataParallel::create(const dist::LaunchInfo& launch,
                                                   const dist::ContextOptions& options) {
  return std::unique_ptr<DataParallel>(new DataParallel(dist::Context::create(launch, options), options.device));
}

void DataParallel::agree(const std::function<void()>& setup) {
  std::exception_ptr error;
  int code = 0;
  try {
    setup();
  } catch (const Error& e) {
    error = std::current_exception();
    code = e.exit_code();
  } catch (const std::exception&) {
    error = std::current_exception();
    code = 1;
  }
  // One all-reduce: how many failed, and the exit code of the lowest failing rank.
  std::vector<double> mine(static_cast<std::size_t>(world_size()) + 1, 0.0);
  if (error) {
    mine[0] = 1;
    mine[1 + static_cast<std::size_t>(rank())] = code;
  }
  const auto all = sum(mine);
  if (error) std::rethrow_exception(error);
  if (all[0] == 0) return;
  for (int r = 0; r < world_size(); ++r) {
    const int their = static_cast<int>(all[1 + static_cast<std::size_t>(r)]);
    if (their == 0) continue;
    throw PeerSetupError("rank " + std::to_string(rank()) + ": stopped because rank " + std::to_string(r) +
                             " could not set up the run (exit " + std::to_string(their) + "; its message says why)",
                         their);
  }
}

std::string DataParallel::broadcast_string(const std::string& text) {
  if (text.size() >= kMaxBroadcastString)
    throw Error("rank " + std::to_string(rank()) + ": a name of " + std::to_string(text.size()) +
                " bytes is too long to share with the other ranks (at most " +
                std::to_string(kMaxBroadcastString - 1) + ")");
  auto buffer = torch::zeros({static_cast<std::int64_t>(kMaxBroadcastString)}, torch::kUInt8);
  if (is_root()) std::memcpy(buffer.data_ptr<std::uint8_t>(), text.data(), text.size());
  auto shared = buffer.to(device_);
  ctx_->broadcast({shared});
  buffer = shared.cpu();
  return std::string(reinterpret_cast<const char*>(buffer.data_ptr<std::uint8_t>()));
}

void DataParallel::attach(Model& model, const dist::BucketOptions& buckets) {
  module_ = model.net.ptr().get();
  ctx_->broadcast_parameters_and_buffers(*module_);
  grads_ = std::make_unique<dist::GradientSync>(ctx_, model.net->parameters(), buckets);
}

std::int64_t DataParallel::buffer_bytes_per_step() const {
  std::int64_t bytes = 0;
  if (module_)
    for (const auto& b : module_->buffers(true))
      if (b.defined()) bytes += b.numel() * static_cast<std::int64_t>(b.element_size());
  return bytes;
}

double DataParallel::loss_weight(std::int64_t mine, std::int64_t all) const {
  return all > 0 ? static_cast<double>(mine) * world_size() / static_cast<double>(all) : 0.0;
}

at::Generator& DataParallel::seed_step(std::uint64_t seed, std::int64_t step, c10::Device device) {
  set_seed(augment_gen_, step_seed(seed, step, rank(), 1));
  set_seed(at::detail::getDefaultCPUGenerator(), step_seed(seed, step, rank(), 2));
  if (!device.is_cpu()) set_seed(at::globalContext().defaultGenerator(device), step_seed(seed, step, rank(), 3));
  return augment_gen_;
}

void DataParallel::before_forward() {
  if (module_) ctx_->broadcast_buffers(*module_);
}

void DataParallel::before_backward(const torch::Tensor& loss) {
  if (grads_) grads_->prepare_for_backward(loss);
}

void DataParallel::after_backward() {
  if (grads_) grads_->finish_gradient_sync();
}

void DataParallel::broadcast_buffers() {
  if (module_) ctx_->broadcast_buffers(*module_);
}

void DataParallel::check_replicas(const std::string& when) {
  if (!module_) return;
  try {
    ctx_->check_same_across_ranks(replica_checksum(*module_), "the model's parameters and buffers");
  } catch (const ConfigError&) {
    throw dist::DistributedError("rank " + std::to_string(rank()) + ": the model's parameters or buffers " + when +
                                 " differ across ranks (bit checksums disagree): the ranks diverged");
  }
}

EvalOptions DataParallel::eval_options(EvalOptions base) {
  base.part = rank();
  base.parts = world_size();
  base.sum_across = [this](const std::vector<torch::Tensor>& sums) { ctx_->all_reduce_sum(sums); };
  return base;
}

nlohmann::json DataParallel::describe(std::int64_t global_batch) const {
  const std::int64_t w = world_size();
  return {{"world_size", w},
          {"backend", ctx_->backend()},
          {"launcher", dist::launcher_name(ctx_->launch().launcher)},
          {"processes_per_node", ctx_->local_world_size()},
          {"global_batch", global_batch},
          {"per_process_batch", (global_batch + w - 1) / w},
          {"threads_per_process", at::get_num_threads()}};
}

dist::GradientSyncStats DataParallel::gradient_stats() const {
  return grads_ ? grads_->stats() : dist::GradientSyncStats{};
}

const std::vector<dist::Bucket>& DataParallel::gradient_buckets() const {
  static const std::vector<dist::Bucket> none;
  return grads_ ? grads_->buckets() : none;
}

}  // namespace cnnkit
