#include "cnnkit/bench/pipeline_bench.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>

#include "cnnkit/core/error.h"
#include "cnnkit/data/pipeline.h"
#include "cnnkit/eval/forward.h"
#include "cnnkit/model/model.h"
#include "cnnkit/train/optimizer.h"
#include "cnnkit/train/train_step.h"
#include "cnnkit/train/training_config.h"

namespace cnnkit {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

nlohmann::json benchmark_pipeline(const Config& config, const Datasets& data, c10::Device device,
                                  std::int64_t batch_size, std::int64_t seed, double seconds) {
  if (data.train.size() == 0) throw DataError(config.source().file + ": the training split is empty");
  BatchPipeline pipeline(config, data.normalization, device);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<std::uint64_t>(seed));
  const std::int64_t n = data.train.size();
  batch_size = std::min(batch_size, n);
  auto perm = torch::randperm(n, gen, torch::kInt64);
  auto next_indices = [&, pos = std::int64_t{0}]() mutable {
    if (pos + batch_size > n) pos = 0;
    auto idx = perm.narrow(0, pos, batch_size);
    pos += batch_size;
    return idx;
  };
  // Batch pipeline alone.
  std::int64_t images = 0;
  auto t0 = std::chrono::steady_clock::now();
  torch::Tensor x;
  while (seconds_since(t0) < seconds || images < 4 * batch_size) {
    x = pipeline.batch(data.train, next_indices(), true, gen);
    images += batch_size;
  }
  if (device.is_cuda()) x.sum().item<float>();  // wait for queued kernels
  const double pipeline_rate = double(images) / seconds_since(t0);

  // The training step on a prepared batch (the pipeline excluded).
  const TrainingConfig tc = TrainingConfig::from(config);
  Model model = build_model(config);
  if (model.num_outputs() != static_cast<std::int64_t>(data.class_names.size())) {
    throw ConfigError(config.source().file + ": the model has " + std::to_string(model.num_outputs()) +
                      " outputs but the data has " + std::to_string(data.class_names.size()) + " classes");
  }
  model.net->to(device);
  if (tc.channels_last) to_channels_last(model);
  model.net->train();
  auto optimizer = make_optimizer(*model.net, tc.optimizer);
  TrainStep step(model, *optimizer, StepOptions::from(tc, device));
  auto labels = data.train.labels.index_select(0, perm.narrow(0, 0, batch_size)).to(device);
  auto batch = pipeline.batch(data.train, perm.narrow(0, 0, batch_size), true, gen);
  step(batch, labels, StepPosition{});  // warm-up (oneDNN primitive creation)
  std::int64_t trained = 0;
  t0 = std::chrono::steady_clock::now();
  torch::Tensor loss;
  while (seconds_since(t0) < seconds || trained < 2 * batch_size) {
    loss = step(batch, labels, StepPosition{}).loss;
    trained += batch_size;
  }
  loss.item<float>();
  const double train_rate = double(trained) / seconds_since(t0);
  return {{"device", device.str()},
          {"batch_size", batch_size},
          {"threads", torch::get_num_threads()},
          {"pipeline_images_per_second", pipeline_rate},
          {"train_step_images_per_second", train_rate},
          {"pipeline_time_share", train_rate / (train_rate + pipeline_rate)}};
}

}  // namespace cnnkit
