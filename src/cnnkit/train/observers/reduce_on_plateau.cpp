// Reduce-on-plateau (Keras semantics): when the watched metric has not improved by more than
// min_delta for `patience` epochs in a row, multiply the learning rate by `factor` (never below
// min_lr) and start counting again. Acts on top of the schedule, as a factor.
#include <spdlog/spdlog.h>

#include "cnnkit/train/observer.h"
#include "cnnkit/train/schedule.h"

namespace cnnkit {
namespace {

class ReduceOnPlateau : public TrainingObserver {
 public:
  explicit ReduceOnPlateau(const PlateauConfig& c) : c_(c) {}
  bool rank0_only() const override { return false; }

  void on_epoch_end(TrainingRun& run, const EpochReport& r) override {
    Patience& p = run.state.plateau;
    if (p.observe(r.row.at(c_.metric).get<double>(), c_.metric, c_.min_delta) || !p.exhausted(c_.patience)) return;
    const double base = scheduled_lr(run.tc.schedule, run.tc.lr(), run.state.step, run.steps_per_epoch, run.tc.epochs);
    const double factor = std::max(run.state.lr_factor * c_.factor, c_.min_lr / std::max(base, 1e-30));
    if (factor < run.state.lr_factor) {
      run.state.lr_factor = factor;
      spdlog::info("{} has not improved for {} epoch{}: learning rate x{:.3g}", c_.metric, p.bad_epochs,
                   p.bad_epochs == 1 ? "" : "s", c_.factor);
    }
    p.bad_epochs = 0;
  }

 private:
  PlateauConfig c_;
};

ObserverRegistrar registrar("reduce_on_plateau", 10, [](const TrainingRun& run) -> std::unique_ptr<TrainingObserver> {
  if (!run.tc.reduce_on_plateau.enabled) return nullptr;
  require_validation_for(run, run.tc.reduce_on_plateau, "reduce_on_plateau");
  return std::make_unique<ReduceOnPlateau>(run.tc.reduce_on_plateau);
});

}  // namespace
}  // namespace cnnkit
