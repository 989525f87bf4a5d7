// Observers: everything that reacts to the training loop without steering the step —
// metrics files, checkpoints, curves, progress, JSON events — and the small policies that
// steer it between epochs (early stopping, reduce-on-plateau). Each lives in its own file and
// registers a factory; the trainer instantiates every registered observer for a run (a factory
// returns nullptr when its feature is off) and calls them in `order`.
//
// Data-parallel training: observers whose `rank0_only()` is true (the default: anything that
// writes files or prints) run on rank 0 only; policies run on every rank, on metrics that are
// identical on every rank, so all ranks take the same decisions.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cnnkit/core/registry.h"
#include "cnnkit/eval/evaluator.h"
#include "cnnkit/train/training_run.h"

namespace cnnkit {

// The running loss and accuracy of the current epoch. Sums stay on the device; reading them
// (loss(), accuracy()) synchronises, so observers read them only when they need to.
class EpochMeter {
 public:
  void reset(c10::Device device, const PartialEpoch& carried);
  void add(const torch::Tensor& loss, const torch::Tensor& logits, const torch::Tensor& labels);
  std::int64_t seen() const { return seen_; }
  double loss_sum() const;  // host value, including what a resumed epoch carried
  std::int64_t correct() const;
  double loss() const { return loss_sum() / static_cast<double>(std::max<std::int64_t>(1, seen_)); }
  double accuracy() const {
    return static_cast<double>(correct()) / static_cast<double>(std::max<std::int64_t>(1, seen_));
  }

 private:
  torch::Tensor loss_sum_, correct_;
  double carried_loss_ = 0.0;
  std::int64_t carried_correct_ = 0, seen_ = 0;
};

struct StepEvent {
  int epoch;
  std::int64_t batch;  // 1-based
  const EpochMeter& meter;
};

struct EpochReport {
  int epoch;
  nlohmann::json row;  // the metrics row appended to the history (docs/training.md)
  const EvalResult& validation;
  bool is_best;  // best validation accuracy so far
};

struct InterruptEvent {
  int signal;
  int epoch;
  std::int64_t batch;
};

struct FinalReport {
  nlohmann::json final_doc;  // what final.json holds
  const EvalResult& test;
};

class TrainingObserver {
 public:
  virtual ~TrainingObserver() = default;
  virtual bool rank0_only() const { return true; }
  virtual void on_train_begin(TrainingRun&) {}
  virtual void on_epoch_begin(TrainingRun&, int epoch) {}
  virtual void on_step_end(TrainingRun&, const StepEvent&) {}  // every step: keep it cheap
  virtual void on_epoch_end(TrainingRun&, const EpochReport&) {}
  virtual void on_interrupt(TrainingRun&, const InterruptEvent&) {}
  virtual void on_fit_end(TrainingRun&) {}  // after the last epoch, before the final test
  virtual void on_train_end(TrainingRun&, const FinalReport&) {}
};

struct ObserverFactory {
  int order;  // lower runs first: policies 10, checkpoints 15, run files 20, pictures 40, people 50
  std::function<std::unique_ptr<TrainingObserver>(const TrainingRun&)> make;
};

Registry<ObserverFactory>& observer_registry();

struct ObserverRegistrar {
  ObserverRegistrar(const std::string& name, int order,
                    std::function<std::unique_ptr<TrainingObserver>(const TrainingRun&)> make) {
    observer_registry().add(name, std::make_unique<ObserverFactory>(ObserverFactory{order, std::move(make)}));
  }
};

// The observers of a run, in order: every registered one that applies, then `extra` (e.g. the
// command's JSON-events observer). `rank0`: false on the other ranks of a data-parallel run.
class ObserverList {
 public:
  ObserverList(const TrainingRun& run, std::vector<std::unique_ptr<TrainingObserver>> extra, bool rank0 = true);
  template <typename F>
  void each(F&& f) {
    for (auto& o : observers_) f(*o);
  }

 private:
  std::vector<std::unique_ptr<TrainingObserver>> observers_;
};

}  // namespace cnnkit
