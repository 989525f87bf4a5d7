// What a person watching sees on stderr: the progress bar (or plain lines when stderr is not a
// terminal; nothing with --quiet) and one log line per epoch.
#include <spdlog/spdlog.h>

#include <cstdio>

#include "cnnkit/core/logging.h"
#include "cnnkit/train/observer.h"
#include "cnnkit/train/progress.h"

namespace cnnkit {
namespace {

// "loss 0.51  acc 82.1%  val_loss 0.60  val_acc 79.9%  [ema_val_acc 80.4%]  lr ..."; without a
// validation split the monitoring figures are printed as test_loss / test_acc.
std::string format_row(const nlohmann::json& r, const std::string& m) {
  char buf[384];
  std::string sets;
  for (auto it = r.begin(); it != r.end(); ++it) {
    const std::string& k = it.key();
    const std::string tail = "_" + m + "_accuracy";
    if (k.size() > tail.size() && k.compare(k.size() - tail.size(), tail.size(), tail) == 0) {
      std::snprintf(buf, sizeof buf, "  %s_%s_acc %.2f%%", k.substr(0, k.size() - tail.size()).c_str(), m.c_str(),
                    100 * it.value().get<double>());
      sets += buf;
    }
  }
  std::string monitored;  // absent in epochs that validate_every skips
  if (r.contains(m + "_loss")) {
    std::snprintf(buf, sizeof buf, "  %s_loss %.4f  %s_acc %.2f%%%s", m.c_str(), r[m + "_loss"].get<double>(),
                  m.c_str(), 100 * r[m + "_accuracy"].get<double>(), sets.c_str());
    monitored = buf;
  }
  std::snprintf(buf, sizeof buf, "loss %.4f  acc %.2f%%%s  lr %.2e  %.1f s  %.0f img/s", r["train_loss"].get<double>(),
                100 * r["train_accuracy"].get<double>(), monitored.c_str(), r["lr"].get<double>(),
                r["seconds"].get<double>(), r["images_per_second"].get<double>());
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
    spdlog::info("epoch {}/{}  {}{}", r.epoch, run.tc.epochs, format_row(r.row, run.monitor_prefix()),
                 r.is_best ? "  (best)" : "");
  }
  void on_interrupt(TrainingRun&, const InterruptEvent&) override { progress_.end_epoch(); }

 private:
  Progress progress_;
};

ObserverRegistrar registrar("progress", 50, [](const TrainingRun&) { return std::make_unique<ProgressLog>(); });

}  // namespace
}  // namespace cnnkit
