#include "cnnkit/bench/dist_bench.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>

#include "cnnkit/bench/timing.h"
#include "cnnkit/core/strings.h"
#include "cnnkit/eval/forward.h"
#include "cnnkit/model/model.h"
#include "cnnkit/train/data_parallel.h"
#include "cnnkit/train/optimizer.h"
#include "cnnkit/train/train_step.h"
#include "cnnkit/train/training_config.h"

namespace cnnkit {
namespace {

using bench_timing::Clock;
using bench_timing::median;
using bench_timing::sync;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A model, its optimizer and the one training step, on the config.
struct Trainer {
  Model model;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<TrainStep> step;

  Trainer(const Config& config, const TrainingConfig& tc, c10::Device device) {
    torch::manual_seed(tc.seed);
    model = build_model(config);
    model.net->to(device);
    if (tc.channels_last) to_channels_last(model);
    model.net->train();
    optimizer = make_optimizer(model.net->parameters(), tc.optimizer);
    step = std::make_unique<TrainStep>(model, *optimizer, StepOptions::from(tc, device));
  }
};

// Per-round medians' inputs: rank 0's step times, and the communication waits averaged over ranks.
struct Samples {
  std::vector<double> alone_ms, parallel_ms, wait_ms, share;
  int alone_steps = 0, parallel_steps = 0;
  dist::GradientSyncStats before;  // the gradient statistics after the warm-up
};

// The two sides of the comparison on one rank: the model trained alone (rank 0 only) and the
// data-parallel one, on the same global batch.
class DistBench {
 public:
  DistBench(const Config& config, const TrainingConfig& tc, c10::Device device, std::int64_t global, DataParallel& dp,
            int local_processes)
      : dp_(dp),
        device_(device),
        threads_each_(at::get_num_threads()),
        threads_alone_(threads_each_ * std::max(1, local_processes)),
        alone_(config, tc, device),
        parallel_(config, tc, device) {
    dp_.attach(parallel_.model);
    parallel_.step->set_gradient_sync(&dp_);
    // The global batch (the same on every rank), and this rank's shard of it.
    auto gen = at::detail::createCPUGenerator(tc.seed);
    x_ = torch::randn(alone_.model.input.batched(global), gen).to(device);
    y_ = torch::randint(0, alone_.model.num_outputs(), {global}, gen, torch::TensorOptions().dtype(torch::kInt64))
             .to(device);
    const auto [lo, hi] = dp_.shard(global);
    xs_ = x_.narrow(0, lo, hi - lo);
    ys_ = y_.narrow(0, lo, hi - lo);
    weight_ = dp_.loss_weight(hi - lo, global);
  }

  int threads_alone() const { return threads_alone_; }

  Samples measure(const BenchOptions& o) {
    // Warm both (allocations, oneDNN primitives), then size the segments from rank 0's timings.
    double t_alone = dp_.is_root() ? run_alone(1) : 0.0;
    dp_.barrier();
    const double t_parallel = run_parallel(1).step;
    const auto agreed = dp_.sum({dp_.is_root() ? t_alone : 0.0, dp_.is_root() ? t_parallel : 0.0});
    auto steps_for = [&](double per_step) {
      return std::max(2, static_cast<int>(o.segment_seconds / std::max(1e-6, per_step) + 0.5));
    };
    Samples s;
    s.alone_steps = steps_for(agreed[0]);
    s.parallel_steps = steps_for(agreed[1]);
    s.before = dp_.gradient_stats();
    for (int r = 0; r < o.rounds; ++r) {
      if (dp_.is_root()) t_alone = run_alone(s.alone_steps);
      dp_.barrier();  // the other ranks wait here, idle, while rank 0 measures alone
      const Segment seg = run_parallel(s.parallel_steps);
      // Rank 0's step time; the waits averaged over ranks.
      const auto all = dp_.sum({dp_.is_root() ? seg.step : 0.0, seg.wait, dp_.is_root() ? t_alone : 0.0});
      const double wait = all[1] / dp_.world_size();
      s.alone_ms.push_back(1e3 * all[2]);
      s.parallel_ms.push_back(1e3 * all[0]);
      s.wait_ms.push_back(1e3 * wait);
      s.share.push_back(wait / std::max(1e-12, all[0]));
    }
    return s;
  }

 private:
  struct Segment {
    double step = 0, wait = 0;
  };

  double run_alone(int steps) {
    at::set_num_threads(threads_alone_);
    const auto t0 = Clock::now();
    for (int i = 0; i < steps; ++i) (*alone_.step)(x_, y_, StepPosition{});
    sync(device_);
    const double s = seconds_since(t0);
    at::set_num_threads(threads_each_);
    return s / steps;
  }

  Segment run_parallel(int steps) {
    const double wait0 = dp_.context().stats().wait_seconds;
    const auto t0 = Clock::now();
    for (int i = 0; i < steps; ++i) (*parallel_.step)(xs_, ys_, StepPosition{}, weight_);
    sync(device_);
    const double s = seconds_since(t0);
    return Segment{s / steps, (dp_.context().stats().wait_seconds - wait0) / steps};
  }

  DataParallel& dp_;
  c10::Device device_;
  int threads_each_, threads_alone_;
  Trainer alone_, parallel_;
  torch::Tensor x_, y_, xs_, ys_;
  double weight_ = 1.0;
};

nlohmann::json report(const Config& config, const TrainingConfig& tc, c10::Device device, std::int64_t global,
                      const DataParallel& dp, const Samples& s, int threads_alone, int rounds) {
  const auto stats = dp.gradient_stats();
  nlohmann::json j;
  j["model"] = config.name();
  j["device"] = device.str();
  j["precision"] = tc.precision;
  j["rounds"] = rounds;
  j["distributed"] = dp.describe(global);
  j["threads_one_process"] = threads_alone;
  auto ips = [&](double ms) { return static_cast<double>(global) / std::max(1e-12, ms / 1e3); };
  std::vector<double> alone_ips, parallel_ips;
  for (double ms : s.alone_ms) alone_ips.push_back(ips(ms));
  for (double ms : s.parallel_ms) parallel_ips.push_back(ips(ms));
  j["one_process"] = {{"step_ms", median(s.alone_ms)},
                      {"images_per_second", median(alone_ips)},
                      {"steps_per_segment", s.alone_steps},
                      {"samples_ms", s.alone_ms}};
  j["data_parallel"] = {{"step_ms", median(s.parallel_ms)},      {"images_per_second", median(parallel_ips)},
                        {"comm_wait_ms", median(s.wait_ms)},     {"comm_wait_share", median(s.share)},
                        {"steps_per_segment", s.parallel_steps}, {"samples_ms", s.parallel_ms},
                        {"comm_wait_share_samples", s.share}};
  const double speedup = median(parallel_ips) / std::max(1e-12, median(alone_ips));
  j["speedup"] = speedup;
  j["scaling_efficiency"] = speedup / dp.world_size();
  j["gradient_bytes_per_step"] = stats.bytes_per_step;
  j["buffer_bytes_per_step"] = dp.buffer_bytes_per_step();
  nlohmann::json buckets = nlohmann::json::array();
  for (const auto& b : dp.gradient_buckets())
    buckets.push_back(
        {{"parameters", b.params.size()}, {"bytes", b.numel * static_cast<std::int64_t>(c10::elementSize(b.dtype))}});
  j["buckets"] = buckets;
  j["buckets_launched_during_backward"] = stats.early_launches - s.before.early_launches;
  j["buckets_launched_after_backward"] = stats.late_launches - s.before.late_launches;
  return j;
}

}  // namespace

nlohmann::json run_dist_bench(const Config& config, c10::Device device, const BenchOptions& o,
                              const dist::LaunchInfo& launch, dist::ContextOptions context) {
  context.device = device;
  auto dp = DataParallel::create(launch, context);
  const TrainingConfig tc = TrainingConfig::from(config);
  const std::int64_t global = o.batch > 0 ? o.batch : tc.batch_size;
  DistBench bench(config, tc, device, global, *dp, launch.local_world_size);
  const Samples samples = bench.measure(o);
  auto j = report(config, tc, device, global, *dp, samples, bench.threads_alone(), o.rounds);
  dp->barrier();
  return j;
}

std::string format_dist_bench(const nlohmann::json& j) {
  std::ostringstream s;
  char buf[320];
  const auto& d = j["distributed"];
  s << "model " << j["model"].get<std::string>() << " on " << j["device"].get<std::string>() << ", global batch "
    << d["global_batch"].get<std::int64_t>() << ", " << j["precision"].get<std::string>() << "; "
    << d["world_size"].get<int>() << " processes (" << d["backend"].get<std::string>() << ", "
    << d["launcher"].get<std::string>() << "); medians of " << j["rounds"].get<int>() << " interleaved rounds\n\n";
  std::snprintf(buf, sizeof buf, "%-34s %10s %12s %14s\n", "", "step ms", "images/s", "comm wait");
  s << buf;
  const auto& a = j["one_process"];
  std::snprintf(buf, sizeof buf, "%-34s %10.1f %12.0f %14s\n",
                ("1 process, " + std::to_string(j["threads_one_process"].get<int>()) + " threads").c_str(),
                a["step_ms"].get<double>(), a["images_per_second"].get<double>(), "");
  s << buf;
  const auto& p = j["data_parallel"];
  char wait[64];
  std::snprintf(wait, sizeof wait, "%.1f ms (%.1f%%)", p["comm_wait_ms"].get<double>(),
                100 * p["comm_wait_share"].get<double>());
  const std::string label = std::to_string(d["world_size"].get<int>()) + " processes x " +
                            std::to_string(d["threads_per_process"].get<int>()) + " thread" +
                            (d["threads_per_process"].get<int>() == 1 ? "" : "s") + ", " +
                            std::to_string(d["per_process_batch"].get<std::int64_t>()) + " images each";
  std::snprintf(buf, sizeof buf, "%-34s %10.1f %12.0f %14s\n", label.c_str(), p["step_ms"].get<double>(),
                p["images_per_second"].get<double>(), wait);
  s << buf;
  std::snprintf(buf, sizeof buf, "\nspeed-up %.2fx, scaling efficiency %.0f%%\n", j["speedup"].get<double>(),
                100 * j["scaling_efficiency"].get<double>());
  s << buf;
  std::string sizes;
  for (const auto& b : j["buckets"]) sizes += (sizes.empty() ? "" : ", ") + human_bytes(b["bytes"].get<double>());
  s << "per step and process: " << j["gradient_bytes_per_step"].get<std::int64_t>()
    << " bytes all-reduced (gradients + usage flags) in " << j["buckets"].size() << " bucket"
    << (j["buckets"].size() == 1 ? "" : "s") << " (" << sizes << "), " << j["buffer_bytes_per_step"].get<std::int64_t>()
    << " bytes of batch-norm buffers broadcast; buckets launched "
    << j["buckets_launched_during_backward"].get<std::int64_t>() << " during backward, "
    << j["buckets_launched_after_backward"].get<std::int64_t>() << " after it\n";
  return s.str();
}

}  // namespace cnnkit
