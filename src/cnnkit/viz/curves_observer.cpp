// curves.png in the run directory, redrawn after every epoch from the metrics history and
// steps.csv (viz/training_curves.h). A build without OpenCV warns once and trains on.
#include <spdlog/spdlog.h>

#include <filesystem>

#include "cnnkit/core/error.h"
#include "cnnkit/train/observer.h"
#include "cnnkit/train/step_log.h"
#include "cnnkit/viz/training_curves.h"

namespace cnnkit {
namespace {

class CurvesObserver : public TrainingObserver {
 public:
  void on_epoch_end(TrainingRun& run, const EpochReport&) override {
    if (failed_) return;
    const std::filesystem::path dir(run.run_dir);
    try {
      write_training_curves((dir / "curves.png").string(), run.history, read_step_log((dir / "steps.csv").string()),
                            run.config.name());
    } catch (const ImageIOError& e) {
      spdlog::warn("{}", e.what());
      failed_ = true;
    }
  }

 private:
  bool failed_ = false;
};

// After steps.csv (16) is rewritten for the epoch.
ObserverRegistrar registrar("curves", 40, [](const TrainingRun&) { return std::make_unique<CurvesObserver>(); });

}  // namespace
}  // namespace cnnkit
