#include "cnnkit/train/observer.h"

#include <torch/torch.h>

#include <algorithm>

#include "cnnkit/core/error.h"

namespace cnnkit {

void EpochMeter::reset(c10::Device device, const PartialEpoch& carried, bool carry_sums) {
  loss_sum_ = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device));
  correct_ = torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64).device(device));
  carried_loss_ = carry_sums ? carried.loss_sum : 0.0;
  carried_correct_ = carry_sums ? carried.correct : 0;
  counted_ = carry_sums ? carried.seen : 0;
  seen_ = carried.seen;
}

void EpochMeter::add(const torch::Tensor& loss, const torch::Tensor& logits, const torch::Tensor& labels,
                     std::int64_t images) {
  torch::NoGradGuard no_grad;
  const std::int64_t n = labels.size(0);
  if (n > 0) {
    loss_sum_ += loss.to(torch::kFloat64) * static_cast<double>(n);
    correct_ += logits.argmax(1).eq(labels).sum();
  }
  counted_ += n;
  seen_ += images < 0 ? n : images;
}

double EpochMeter::loss_sum() const { return loss_sum_.item<double>() + carried_loss_; }
std::int64_t EpochMeter::correct() const { return correct_.item<std::int64_t>() + carried_correct_; }

void require_validation_for(const TrainingRun& run, const MonitorConfig& m, const std::string& key) {
  if (m.metric.rfind("val_", 0) != 0) return;
  if (run.tc.validate_every != 1)
    throw ConfigError(run.config.source().file + ":/training/" + key + "/metric: " + m.metric +
                      " is measured after every epoch only with training.validate_every 1; it is " +
                      std::to_string(run.tc.validate_every));
  if (run.has_validation) return;
  throw ConfigError(run.config.source().file + ":/training/" + key + "/metric: " + m.metric +
                    " needs a validation split, and the data has none (data.validation_split is 0): watching the test "
                    "split would select on it; set data.validation_split (e.g. 0.1) or watch a train_* metric");
}

Registry<ObserverFactory>& observer_registry() {
  static Registry<ObserverFactory> registry("training observer");
  return registry;
}

ObserverList::ObserverList(const TrainingRun& run, std::vector<std::unique_ptr<TrainingObserver>> extra, bool rank0) {
  std::vector<std::pair<int, std::string>> order;
  for (const auto& [name, factory] : observer_registry().members()) order.push_back({factory->order, name});
  std::sort(order.begin(), order.end());
  auto keep = [&](std::unique_ptr<TrainingObserver> o) {
    if (o && (rank0 || !o->rank0_only())) observers_.push_back(std::move(o));
  };
  for (const auto& [_, name] : order) keep(observer_registry().get(name).make(run));
  for (auto& o : extra) keep(std::move(o));
}

}  // namespace cnnkit
