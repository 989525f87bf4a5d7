#include "cnnkit/train/observer.h"

#include <torch/torch.h>

#include <algorithm>

namespace cnnkit {

void EpochMeter::reset(c10::Device device, const PartialEpoch& carried) {
  loss_sum_ = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device));
  correct_ = torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64).device(device));
  carried_loss_ = carried.loss_sum;
  carried_correct_ = carried.correct;
  seen_ = carried.seen;
}

void EpochMeter::add(const torch::Tensor& loss, const torch::Tensor& logits, const torch::Tensor& labels) {
  torch::NoGradGuard no_grad;
  const std::int64_t n = labels.size(0);
  loss_sum_ += loss.to(torch::kFloat64) * static_cast<double>(n);
  correct_ += logits.argmax(1).eq(labels).sum();
  seen_ += n;
}

double EpochMeter::loss_sum() const { return loss_sum_.item<double>() + carried_loss_; }
std::int64_t EpochMeter::correct() const { return correct_.item<std::int64_t>() + carried_correct_; }

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
