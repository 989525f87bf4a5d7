// Early stopping (Keras semantics): stop when the watched metric has not improved by more than
// min_delta for `patience` epochs in a row. With restore_best_weights, the run ends with the
// weights of the best epoch of that metric: the final test uses them and last.pt holds them.
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "cnnkit/train/observer.h"

namespace cnnkit {
namespace {

const std::string kSnapshot = "early_stopping.best/";

class EarlyStopping : public TrainingObserver {
 public:
  explicit EarlyStopping(const EarlyStoppingConfig& c) : c_(c) {}
  bool rank0_only() const override { return false; }

  void on_epoch_end(TrainingRun& run, const EpochReport& r) override {
    Patience& p = run.state.early;
    const bool improved = p.observe(r.row.at(c_.metric).get<double>(), c_.metric, c_.min_delta);
    if (improved && c_.restore_best_weights) snapshot(run, r.epoch);
    if (!improved && p.exhausted(c_.patience)) {
      spdlog::info("early stopping: {} has not improved for {} epoch{}", c_.metric, p.bad_epochs,
                   p.bad_epochs == 1 ? "" : "s");
      run.stop_requested = true;
      run.early_stopped = true;
    }
  }

  void on_fit_end(TrainingRun& run) override {
    if (!c_.restore_best_weights || !run.observer_tensors.count(kSnapshot + "epoch")) return;
    const int epoch = static_cast<int>(run.observer_tensors.at(kSnapshot + "epoch").item<std::int64_t>());
    if (epoch == run.state.epoch) return;  // the last epoch was the best: nothing to restore
    torch::NoGradGuard no_grad;
    for (auto& p : run.model.net->named_parameters(true)) p.value().copy_(run.observer_tensors.at(kSnapshot + p.key()));
    for (auto& b : run.model.net->named_buffers(true)) b.value().copy_(run.observer_tensors.at(kSnapshot + b.key()));
    run.restored_epoch = epoch;
    spdlog::info("restored the weights of epoch {} (best {} {:.4f})", epoch, c_.metric, run.state.early.best);
  }

 private:
  void snapshot(TrainingRun& run, int epoch) {
    for (const auto& p : run.model.net->named_parameters(true))
      run.observer_tensors[kSnapshot + p.key()] =
          p.value().detach().to(torch::kCPU, /*non_blocking=*/false, /*copy=*/true);
    for (const auto& b : run.model.net->named_buffers(true))
      run.observer_tensors[kSnapshot + b.key()] = b.value().detach().to(torch::kCPU, false, true);
    run.observer_tensors[kSnapshot + "epoch"] = torch::tensor(static_cast<std::int64_t>(epoch));
  }

  EarlyStoppingConfig c_;
};

ObserverRegistrar registrar("early_stopping", 10, [](const TrainingRun& run) -> std::unique_ptr<TrainingObserver> {
  if (!run.tc.early_stopping.enabled) return nullptr;
  require_validation_for(run, run.tc.early_stopping, "early_stopping");
  return std::make_unique<EarlyStopping>(run.tc.early_stopping);
});

}  // namespace
}  // namespace cnnkit
