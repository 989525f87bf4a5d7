#include "cnnkit/bench/bench.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>

#include "cnnkit/bench/timing.h"
#include "cnnkit/core/error.h"
#include "cnnkit/core/strings.h"
#include "cnnkit/data/pipeline.h"
#include "cnnkit/eval/forward.h"
#include "cnnkit/model/model.h"
#include "cnnkit/train/optimizer.h"
#include "cnnkit/train/train_step.h"
#include "cnnkit/train/training_config.h"

namespace cnnkit {
namespace {

using bench_timing::Clock;
using bench_timing::median;
using bench_timing::sync;

// Runs `step` repeatedly for about `seconds` (at least twice); returns seconds per call.
template <typename F>
double time_per_call(F&& step, c10::Device device, double seconds) {
  step();  // warm (allocations, oneDNN primitive caches)
  sync(device);
  int n = 0;
  auto t0 = Clock::now();
  double elapsed = 0;
  do {
    step();
    ++n;
    sync(device);
    elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (elapsed < seconds || n < 2);
  return elapsed / n;
}

// The model under test with a synthetic batch.
struct Subject {
  TrainingConfig tc;
  Model model;
  torch::Tensor x, y;
  int batch = 0;
  double fwd_flops = 0, train_flops = 0;  // per image
};

Subject make_subject(const Config& config, c10::Device device, const BenchOptions& o) {
  Subject s;
  s.tc = TrainingConfig::from(config);
  s.batch = o.batch > 0 ? o.batch : s.tc.batch_size;
  torch::manual_seed(s.tc.seed);
  s.model = build_model(config);
  s.model.net->to(device);
  if (s.tc.channels_last) to_channels_last(s.model);
  std::int64_t macs = 0;
  for (const auto& l : s.model.layers) macs += l.macs;
  s.fwd_flops = 2.0 * static_cast<double>(macs);
  s.train_flops = 3.0 * s.fwd_flops;
  auto fopts = torch::TensorOptions().device(device);
  s.x = torch::randn(s.model.input.batched(s.batch), fopts);
  s.y = torch::randint(0, s.model.num_outputs(), {s.batch}, fopts.dtype(torch::kInt64));
  return s;
}

nlohmann::json rate_json(const std::vector<double>& images_per_second, double flops_per_image,
                         const std::vector<double>& ratios) {
  return {{"images_per_second", median(images_per_second)},
          {"flops_per_second", median(images_per_second) * flops_per_image},
          {"fraction_of_matmul", median(ratios)},
          {"samples", images_per_second}};
}

// Interleaved rounds of matmul, training step and inference; medians.
void measure_speed(Subject& s, c10::Device device, const BenchOptions& o, nlohmann::json& j) {
  const bool bf16 = s.tc.bf16(device);
  auto optimizer = make_optimizer(*s.model.net, s.tc.optimizer);
  TrainStep step(s.model, *optimizer, StepOptions::from(s.tc, device));  // exactly what training runs
  auto train_step = [&]() { step(s.x, s.y, StepPosition{}); };
  auto infer_step = [&]() {
    torch::InferenceMode guard;
    forward_logits(s.model, s.x, s.tc.channels_last, bf16);
  };
  const int n = o.matmul_size;
  auto fopts = torch::TensorOptions().device(device);
  auto a = torch::randn({n, n}, fopts), b = torch::randn({n, n}, fopts);
  const double matmul_flops = 2.0 * n * static_cast<double>(n) * n;
  torch::Tensor a16 = bf16 ? a.to(torch::kBFloat16) : a, b16 = bf16 ? b.to(torch::kBFloat16) : b;
  std::vector<double> mm, mm16, tr, inf, ratio_train, ratio_infer;
  for (int r = 0; r < o.rounds; ++r) {
    const double t_mm = time_per_call([&] { torch::mm(a, b); }, device, o.segment_seconds / 2);
    s.model.net->train();
    const double t_tr = time_per_call(train_step, device, o.segment_seconds);
    s.model.net->eval();
    const double t_in = time_per_call(infer_step, device, o.segment_seconds / 2);
    mm.push_back(matmul_flops / t_mm);
    tr.push_back(s.batch / t_tr);
    inf.push_back(s.batch / t_in);
    ratio_train.push_back(s.batch / t_tr * s.train_flops / (matmul_flops / t_mm));
    ratio_infer.push_back(s.batch / t_in * s.fwd_flops / (matmul_flops / t_mm));
    if (bf16) mm16.push_back(matmul_flops / time_per_call([&] { torch::mm(a16, b16); }, device, o.segment_seconds / 4));
  }
  j["matmul"] = {{"size", n}, {"flops_per_second", median(mm)}, {"samples", mm}};
  if (bf16) j["matmul_bf16"] = {{"size", n}, {"flops_per_second", median(mm16)}, {"samples", mm16}};
  j["train"] = rate_json(tr, s.train_flops, ratio_train);
  j["inference"] = rate_json(inf, s.fwd_flops, ratio_infer);
}

// The batch pipeline alone on the real training split; an error is reported, not thrown.
nlohmann::json measure_data_pipeline(const Config& config, const Subject& s, c10::Device device, const BenchOptions& o,
                                     double train_rate) {
  try {
    DataLoadOptions load = o.data_load;
    load.need_test = false;
    Datasets data = load_datasets(config, load);
    BatchPipeline pipeline(config, data.normalization, device);
    at::Generator gen = at::detail::createCPUGenerator(s.tc.seed);
    const std::int64_t n_train = data.train.size();
    std::vector<double> rates;
    for (int r = 0; r < o.rounds; ++r) {
      const double t = time_per_call(
          [&] {
            auto idx = torch::randint(0, n_train, {s.batch}, gen, torch::TensorOptions().dtype(torch::kInt64));
            pipeline.batch(data.train, idx, true, gen);
          },
          device, o.segment_seconds / 2);
      rates.push_back(s.batch / t);
    }
    return {{"images_per_second", median(rates)},
            {"augmented", pipeline.augments()},
            {"times_training_rate", median(rates) / std::max(1e-9, train_rate)},
            {"samples", rates}};
  } catch (const Error& e) {
    return {{"error", e.what()}};
  }
}

// Per config layer: forward, then backward of that layer alone (input detached, output
// gradient of ones), medians over a few runs.
nlohmann::json profile_layers(Subject& s, c10::Device device, const BenchOptions& o) {
  s.model.net->train();
  nlohmann::json rows = nlohmann::json::array();
  torch::Tensor cur = s.tc.channels_last ? s.x.contiguous(torch::MemoryFormat::ChannelsLast) : s.x;
  for (std::size_t i = 0; i < s.model.layers.size(); ++i) {
    auto& layer = s.model.layers[i];
    torch::Tensor in = cur.detach().requires_grad_(true);
    torch::Tensor out;
    std::vector<double> fw, bw;
    for (int r = 0; r < std::max(3, o.rounds); ++r) {
      in.mutable_grad() = torch::Tensor();
      sync(device);
      auto t0 = Clock::now();
      out = layer.module.forward(in);
      sync(device);
      auto t1 = Clock::now();
      torch::autograd::backward({out}, {torch::ones_like(out)});  // this layer alone, not a training step
      sync(device);
      auto t2 = Clock::now();
      fw.push_back(std::chrono::duration<double>(t1 - t0).count());
      bw.push_back(std::chrono::duration<double>(t2 - t1).count());
    }
    rows.push_back({{"index", i},
                    {"name", layer.name},
                    {"type", layer.type},
                    {"output_shape", layer.output.str()},
                    {"flops_forward", 2.0 * static_cast<double>(layer.macs) * s.batch},
                    {"forward_ms", 1e3 * median(fw)},
                    {"backward_ms", 1e3 * median(bw)}});
    cur = out.detach();
  }
  return rows;
}

}  // namespace

nlohmann::json run_bench(const Config& config, c10::Device device, const BenchOptions& o) {
  Subject s = make_subject(config, device, o);
  nlohmann::json j;
  j["model"] = config.name();
  j["device"] = device.str();
  j["threads"] = at::get_num_threads();
  j["batch_size"] = s.batch;
  j["precision"] = s.tc.effective_precision(device);
  j["precision_configured"] = s.tc.precision;
  j["channels_last"] = s.tc.channels_last;
  j["rounds"] = o.rounds;
  j["flops_per_image_forward"] = s.fwd_flops;
  j["flops_per_image_train"] = s.train_flops;
  measure_speed(s, device, o, j);
  if (o.data) j["data_pipeline"] = measure_data_pipeline(config, s, device, o, j["train"]["images_per_second"]);
  if (o.layers) j["layers"] = profile_layers(s, device, o);
  return j;
}

std::string format_bench(const nlohmann::json& j) {
  std::ostringstream s;
  char buf[256];
  auto g = [](double v) { return human_count(v); };
  s << "model " << j["model"].get<std::string>() << " on " << j["device"].get<std::string>() << ", "
    << j["threads"].get<int>() << " threads, batch " << j["batch_size"].get<int>() << ", " << j["precision"].get<std::string>()
    << (j["channels_last"].get<bool>() ? ", channels-last" : "") << "; medians of " << j["rounds"].get<int>()
    << " interleaved rounds\n";
  s << "FLOPs per image: " << g(j["flops_per_image_forward"].get<double>()) << " forward, "
    << g(j["flops_per_image_train"].get<double>()) << " training (3x)\n\n";
  std::snprintf(buf, sizeof buf, "%-22s %14s %16s %12s\n", "", "images/s", "FLOP/s", "of matmul");
  s << buf;
  std::snprintf(buf, sizeof buf, "%-22s %14s %16s %12s\n", ("matmul " + std::to_string(j["matmul"]["size"].get<int>())).c_str(),
                "", g(j["matmul"]["flops_per_second"].get<double>()).c_str(), "1.00");
  s << buf;
  if (j.contains("matmul_bf16")) {
    std::snprintf(buf, sizeof buf, "%-22s %14s %16s %12s\n", "matmul bf16", "",
                  g(j["matmul_bf16"]["flops_per_second"].get<double>()).c_str(), "");
    s << buf;
  }
  for (const char* k : {"train", "inference"}) {
    std::snprintf(buf, sizeof buf, "%-22s %14.0f %16s %12.2f\n", k, j[k]["images_per_second"].get<double>(),
                  g(j[k]["flops_per_second"].get<double>()).c_str(), j[k]["fraction_of_matmul"].get<double>());
    s << buf;
  }
  if (j.contains("data_pipeline")) {
    const auto& d = j["data_pipeline"];
    if (d.contains("error")) {
      s << "data pipeline          unavailable: " << d["error"].get<std::string>() << "\n";
    } else {
      std::snprintf(buf, sizeof buf, "%-22s %14.0f %16s %12s   (%.1fx the training rate)\n",
                    d["augmented"].get<bool>() ? "data (augmented)" : "data", d["images_per_second"].get<double>(), "", "",
                    d["times_training_rate"].get<double>());
      s << buf;
    }
  }
  if (j.contains("layers")) {
    s << "\nper layer (one batch)\n";
    std::snprintf(buf, sizeof buf, "%-4s %-24s %-12s %12s %12s %12s\n", "#", "layer (type)", "output", "FLOPs fwd",
                  "forward ms", "backward ms");
    s << buf;
    for (const auto& r : j["layers"]) {
      std::string name = r["name"].get<std::string>() + " (" + r["type"].get<std::string>() + ")";
      std::snprintf(buf, sizeof buf, "%-4d %-24s %-12s %12s %12.3f %12.3f\n", r["index"].get<int>(), name.c_str(),
                    r["output_shape"].get<std::string>().c_str(), g(r["flops_forward"].get<double>()).c_str(),
                    r["forward_ms"].get<double>(), r["backward_ms"].get<double>());
      s << buf;
    }
  }
  return s.str();
}

}  // namespace cnnkit
