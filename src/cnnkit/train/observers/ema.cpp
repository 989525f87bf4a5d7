// training.ema: an average of the weights kept during training (train/training_config.h,
// docs/training.md). Every `every` steps:
//   avg = d·avg + (1 − d)·w,  d = decay^every · (t/T)^warmup_power      (t: step, T: all steps)
// over every parameter and, with buffers "average", every floating-point buffer (batch-norm
// running mean and variance); with buffers "copy" (and always for integer buffers such as
// num_batches_tracked) the buffers are copied from the model.
//
// mode "ema": the average is a weight set "ema" of the run (TrainingRun::weight_sets): the loop
// evaluates it after every epoch beside the raw weights, checkpoints hold it, and with
// use_for_evaluation it chooses best.pt and is what the final test and `evaluate` report.
// mode "lookahead": after each update the average is copied into the model (the slow weights
// pull the fast ones back). The average (the slow weights) is the weight set "lookahead" and the
// run's default weights: the final test, best.pt and evaluate/export use it, while the model
// keeps its fast weights, so last.pt resumes exactly.
//
// The average lives in TrainingRun::observer_tensors ("ema/<name>" or "lookahead/<name>", on the
// training device), so checkpoints carry it and a resumed run continues it exactly.
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>

#include "cnnkit/core/error.h"
#include "cnnkit/train/observer.h"

namespace cnnkit {
namespace {

class WeightAverage : public TrainingObserver {
 public:
  explicit WeightAverage(const EmaConfig& c) : c_(c), prefix_(c.mode + "/") {}
  bool rank0_only() const override { return false; }  // every rank keeps the same average

  void on_train_begin(TrainingRun& run) override {
    torch::NoGradGuard no_grad;
    bool resumed = true;
    for (auto& [name, t] : state(run)) resumed = resumed && run.observer_tensors.count(prefix_ + name);
    if (!resumed && run.state.step > 0)
      spdlog::warn("training.ema: the checkpoint holds no {} weights; starting the average from the current weights",
                   c_.mode);
    for (auto& [name, t] : state(run)) {
      auto it = run.observer_tensors.find(prefix_ + name);
      if (resumed && it->second.sizes() != t.sizes())
        throw CheckpointError("training.ema: the checkpoint's average of '" + name + "' does not match the model");
      // Same device, dtype and memory format as the model's tensor.
      run.observer_tensors[prefix_ + name] = resumed ? t.detach().clone().copy_(it->second) : t.detach().clone();
    }
    char buf[200];
    if (c_.mode == "ema") {
      std::snprintf(buf, sizeof buf, "exponential moving average of the weights (decay %g per step, every %d step%s)",
                    c_.decay, c_.every, c_.every == 1 ? "" : "s");
      run.weight_sets["ema"] = WeightSet{buf, c_.validate};
      if (c_.use_for_evaluation) run.default_weights = "ema";
    } else {
      std::snprintf(buf, sizeof buf,
                    "lookahead's slow weights (an average copied into the model every %d step%s, decay %g per step)",
                    c_.every, c_.every == 1 ? "" : "s", c_.decay);
      run.weight_sets["lookahead"] = WeightSet{buf, /*validate=*/false};
      run.default_weights = "lookahead";
    }
    total_steps_ = static_cast<double>(std::max<std::int64_t>(1, run.steps_per_epoch * run.tc.epochs));
  }

  void on_step_end(TrainingRun& run, const StepEvent&) override {
    const std::int64_t t = run.state.step;  // steps taken, this one included
    if (t % c_.every != 0) return;
    double d = std::pow(c_.decay, c_.every);
    if (c_.warmup_power > 0) d *= std::pow(std::min(1.0, static_cast<double>(t) / total_steps_), c_.warmup_power);
    update(run, d);
  }

 private:
  // The model's parameters and buffers by name (the keys of the average).
  static std::vector<std::pair<std::string, torch::Tensor>> state(TrainingRun& run) {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (auto& p : run.model.net->named_parameters(true)) out.emplace_back(p.key(), p.value());
    for (auto& b : run.model.net->named_buffers(true)) out.emplace_back(b.key(), b.value());
    return out;
  }

  void update(TrainingRun& run, double d) {
    torch::NoGradGuard no_grad;
    const std::size_t n_params = run.model.net->named_parameters(true).size();
    std::size_t i = 0;
    for (auto& [name, w] : state(run)) {
      torch::Tensor& avg = run.observer_tensors.at(prefix_ + name);
      const bool is_buffer = i++ >= n_params;
      if (!w.is_floating_point() || (is_buffer && c_.buffers == "copy")) {
        avg.copy_(w);
      } else {
        avg.lerp_(w, 1.0 - d);
      }
      if (c_.mode == "lookahead") w.copy_(avg);
    }
  }

  EmaConfig c_;
  std::string prefix_;
  double total_steps_ = 1.0;
};

// Order 5: before the policies and the files, so the epoch's figures include the average's.
ObserverRegistrar registrar("ema", 5, [](const TrainingRun& run) -> std::unique_ptr<TrainingObserver> {
  if (!run.tc.ema.enabled) return nullptr;
  return std::make_unique<WeightAverage>(run.tc.ema);
});

}  // namespace
}  // namespace cnnkit
