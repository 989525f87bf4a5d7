// What a person watching sees on stderr: the progress bar (or plain lines when stderr is not a
// terminal; nothing with --quiet) and one log line per epoch.
#include <spdlog/spdlog.h>

#include <cstdio>

#include "cnnkit/core/logging.h"
#include "cnnkit/train/observer.h"
#include "cnnkit/train/progress.h"

namespace cnnkit {
namespace {

std::string format_row(const nlohmann::json& r) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "loss %.4f  acc %.2f%%  val_loss %.4f  val_acc %.2f%%  lr %.2e  %.1f s  %.0f img/s",
                r["train_loss"].get<double>(), 100 * r["train_accuracy"].get<double>(), r["val_loss"].get<double>(),
                100 * r["val_accuracy"].get<double>(), r["lr"].get<double>(), r["seconds"].get<double>(),
                r["images_per_second"].get<double>());
  return buf;
}

class ProgressLog : public TrainingObserver {
 public:
  ProgressLog() : progress_(!quiet_mode(), stderr_is_terminal()) {}
  void on_epoch_begin(TrainingRun& run, int epoch) override {
    progress_.begin_epoch(epoch, run.tc.epochs, run.steps_per_epoch, run.train_size());
  }
  void on_step_end(TrainingRun&, const StepEvent& e) override {
    if (progress_.wants_update()) progress_.update(e.batch, e.meter.seen(), e.meter.loss(), e.meter.accuracy());
  }
  void on_epoch_end(TrainingRun& run, const EpochReport& r) override {
    progress_.end_epoch();
    spdlog::info("epoch {}/{}  {}{}", r.epoch, run.tc.epochs, format_row(r.row), r.is_best ? "  (best)" : "");
  }
  void on_interrupt(TrainingRun&, const InterruptEvent&) override { progress_.end_epoch(); }

 private:
  Progress progress_;
};

ObserverRegistrar registrar("progress", 50, [](const TrainingRun&) { return std::make_unique<ProgressLog>(); });

}  // namespace
}  // namespace cnnkit
