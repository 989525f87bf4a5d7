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
// Data-parallel training: loss and accuracy are this process's (its shards of the batches) until
// the loop adds every rank's sums at the end of the epoch; seen() counts the images of all ranks.
class EpochMeter {
 public:
  // `carry_sums`: false on data-parallel ranks other than 0, which carry only the image count
  // (rank 0 alone carries a resumed epoch's sums, so that adding every rank's counts them once).
  void reset(c10::Device device, const PartialEpoch& carried, bool carry_sums = true);
  // `images`: the images of the step on all ranks (default: labels.size(0), one process).
  void add(const torch::Tensor& loss, const torch::Tensor& logits, const torch::Tensor& labels,
           std::int64_t images = -1);
  std::int64_t seen() const { return seen_; }  // images of this epoch so far, all ranks
  std::int64_t counted() const { return counted_; }  // images behind loss_sum() and correct()
  double loss_sum() const;  // host value, including what a resumed epoch carried
  std::int64_t correct() const;
  double loss() const { return loss_sum() / static_cast<double>(std::max<std::int64_t>(1, counted_)); }
  double accuracy() const {
    return static_cast<double>(correct()) / static_cast<double>(std::max<std::int64_t>(1, counted_));
  }

 private:
  torch::Tensor loss_sum_, correct_;
  double carried_loss_ = 0.0;
  std::int64_t carried_correct_ = 0, seen_ = 0, counted_ = 0;
};

struct StepEvent {
  int epoch;
  std::int64_t batch;  // 1-based
  const EpochMeter& meter;
};

struct EpochReport {
  int epoch;
  // The metrics row appended to the history (docs/training.md): val_loss / val_accuracy, or
  // test_loss / test_accuracy when the run has no validation split; <set>_val_* for weight sets.
  nlohmann::json row;
  const EvalResult& validation;
  bool is_best;  // best validation accuracy so far (of the run's default weights); never without a validation split
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

// For policies that watch a metric: val_* needs a validation split (no selection on the test
// split). Throws ConfigError naming /training/<key>/metric otherwise.
void require_validation_for(const TrainingRun& run, const MonitorConfig& monitor, const std::string& key);

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
