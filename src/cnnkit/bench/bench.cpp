#include "cnnkit/bench/bench.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>

#include "cnnkit/core/error.h"
#include "cnnkit/core/strings.h"
#include "cnnkit/data/pipeline.h"
#include "cnnkit/eval/forward.h"
#include "cnnkit/model/model.h"
#include "cnnkit/train/optimizer.h"
#include "cnnkit/train/training_config.h"

namespace cnnkit {
namespace {

using Clock = std::chrono::steady_clock;

void sync(c10::Device d) {
  if (d.is_cuda()) torch::cuda::synchronize(d.index());
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

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

}  // namespace

nlohmann::json run_bench(const Config& config, c10::Device device, const BenchOptions& o) {
  TrainingConfig tc = TrainingConfig::from(config.section("training"));
  const int batch = o.batch > 0 ? o.batch : tc.batch_size;
  const bool bf16 = tc.precision == "bf16";
  torch::manual_seed(tc.seed);
  Model model = build_model(config);
  model.net->to(device);
  if (tc.channels_last) to_channels_last(model);
  std::int64_t macs = 0;
  for (const auto& l : model.layers) macs += l.macs;
  const double fwd_flops = 2.0 * static_cast<double>(macs);
  const double train_flops = 3.0 * fwd_flops;

  auto fopts = torch::TensorOptions().device(device);
  auto x = torch::randn(model.input.batched(batch), fopts);
  auto y = torch::randint(0, model.num_outputs(), {batch}, fopts.dtype(torch::kInt64));
  auto optimizer = make_optimizer(model.net->parameters(), tc.optimizer);
  auto train_step = [&]() {
    optimizer->zero_grad();
    auto loss = torch::nn::functional::cross_entropy(forward_logits(model, x, tc.channels_last, bf16), y);
    loss.backward();
    optimizer->step();
  };
  auto infer_step = [&]() {
    torch::InferenceMode guard;
    forward_logits(model, x, tc.channels_last, bf16);
  };
  const int n = o.matmul_size;
  auto a = torch::randn({n, n}, fopts), b = torch::randn({n, n}, fopts);
  auto matmul_step = [&]() { torch::mm(a, b); };
  const double matmul_flops = 2.0 * n * static_cast<double>(n) * n;
  torch::Tensor a16, b16;
  if (bf16) {
    a16 = a.to(torch::kBFloat16);
    b16 = b.to(torch::kBFloat16);
  }

  std::vector<double> mm, mm16, tr, inf, ratio_train, ratio_infer;
  for (int r = 0; r < o.rounds; ++r) {
    double t_mm = time_per_call(matmul_step, device, o.segment_seconds / 2);
    model.net->train();
    double t_tr = time_per_call(train_step, device, o.segment_seconds);
    model.net->eval();
    double t_in = time_per_call(infer_step, device, o.segment_seconds / 2);
    mm.push_back(matmul_flops / t_mm);
    tr.push_back(batch / t_tr);
    inf.push_back(batch / t_in);
    ratio_train.push_back(batch / t_tr * train_flops / (matmul_flops / t_mm));
    ratio_infer.push_back(batch / t_in * fwd_flops / (matmul_flops / t_mm));
    if (bf16) mm16.push_back(matmul_flops / time_per_call([&] { torch::mm(a16, b16); }, device, o.segment_seconds / 4));
  }

  nlohmann::json j;
  j["model"] = config.name();
  j["device"] = device.str();
  j["threads"] = at::get_num_threads();
  j["batch_size"] = batch;
  j["precision"] = tc.precision;
  j["channels_last"] = tc.channels_last;
  j["rounds"] = o.rounds;
  j["flops_per_image_forward"] = fwd_flops;
  j["flops_per_image_train"] = train_flops;
  j["matmul"] = {{"size", n}, {"flops_per_second", median(mm)}, {"samples", mm}};
  if (bf16) j["matmul_bf16"] = {{"size", n}, {"flops_per_second", median(mm16)}, {"samples", mm16}};
  j["train"] = {{"images_per_second", median(tr)},
                {"flops_per_second", median(tr) * train_flops},
                {"fraction_of_matmul", median(ratio_train)},
                {"samples", tr}};
  j["inference"] = {{"images_per_second", median(inf)},
                    {"flops_per_second", median(inf) * fwd_flops},
                    {"fraction_of_matmul", median(ratio_infer)},
                    {"samples", inf}};

  if (o.data) {
    try {
      DataLoadOptions load = o.data_load;
      load.need_test = false;
      Datasets data = load_datasets(config, load);
      BatchPipeline pipeline(config, data.normalization, device);
      at::Generator gen = at::detail::createCPUGenerator(tc.seed);
      const std::int64_t n_train = data.train.size();
      std::vector<double> rates;
      for (int r = 0; r < o.rounds; ++r) {
        double t = time_per_call(
            [&] {
              auto idx = torch::randint(0, n_train, {batch}, gen, torch::TensorOptions().dtype(torch::kInt64));
              pipeline.batch(data.train, idx, true, gen);
            },
            device, o.segment_seconds / 2);
        rates.push_back(batch / t);
      }
      j["data_pipeline"] = {{"images_per_second", median(rates)},
                            {"augmented", pipeline.augments()},
                            {"times_training_rate", median(rates) / std::max(1e-9, median(tr))},
                            {"samples", rates}};
    } catch (const Error& e) {
      j["data_pipeline"] = {{"error", e.what()}};
    }
  }

  if (o.layers) {
    // Per config layer: forward, then backward of that layer alone (input detached, output
    // gradient of ones), medians over a few runs.
    model.net->train();
    nlohmann::json rows = nlohmann::json::array();
    torch::Tensor cur = tc.channels_last ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
    for (std::size_t i = 0; i < model.layers.size(); ++i) {
      auto& layer = model.layers[i];
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
        out.backward(torch::ones_like(out));
        sync(device);
        auto t2 = Clock::now();
        fw.push_back(std::chrono::duration<double>(t1 - t0).count());
        bw.push_back(std::chrono::duration<double>(t2 - t1).count());
      }
      rows.push_back({{"index", i},
                      {"name", layer.name},
                      {"type", layer.type},
                      {"output_shape", layer.output.str()},
                      {"flops_forward", 2.0 * static_cast<double>(layer.macs) * batch},
                      {"forward_ms", 1e3 * median(fw)},
                      {"backward_ms", 1e3 * median(bw)}});
      cur = out.detach();
    }
    j["layers"] = rows;
  }
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
