// Checkpoints of a run (atomic, model/checkpoint.h): last.pt after every epoch and on an
// interrupt, best.pt at the best validation accuracy, and last.pt again when early stopping
// restored the best weights at the end, or once for a run of 0 epochs (the initial weights).
#include "cnnkit/train/observer.h"

namespace cnnkit {
namespace {

class Checkpoints : public TrainingObserver {
 public:
  void on_epoch_end(TrainingRun& run, const EpochReport& r) override {
    run.save_checkpoint(run.last_checkpoint());
    if (r.is_best) run.save_checkpoint(run.best_checkpoint());
  }
  void on_interrupt(TrainingRun& run, const InterruptEvent&) override { run.save_checkpoint(run.last_checkpoint()); }
  void on_fit_end(TrainingRun& run) override {
    // Restored best weights, or a run of 0 epochs (the initial weights, e.g. imported).
    if (run.restored_epoch > 0 || run.state.epoch == 0) run.save_checkpoint(run.last_checkpoint());
  }
};

ObserverRegistrar registrar("checkpoints", 15, [](const TrainingRun&) { return std::make_unique<Checkpoints>(); });

}  // namespace
}  // namespace cnnkit
