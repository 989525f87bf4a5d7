// confusion.png in the run directory: the final test's confusion matrix, row-normalised (each
// row is the true class, so the diagonal is the recall and the errors stand out), written when
// training ends (viz/confusion_plot.h). A build without OpenCV warns and goes on.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>

#include "cnnkit/core/error.h"
#include "cnnkit/core/strings.h"
#include "cnnkit/core/terminal.h"
#include "cnnkit/train/observer.h"
#include "cnnkit/viz/confusion_plot.h"

namespace cnnkit {
namespace {

class ConfusionObserver : public TrainingObserver {
 public:
  void on_train_end(TrainingRun& run, const FinalReport& r) override {
    if (!r.test.confusion.defined() || r.test.confusion.numel() == 0) return;
    ConfusionOptions o;
    o.normalize = true;
    char accuracy[32];
    std::snprintf(accuracy, sizeof accuracy, "%.2f%%", 100 * r.test.top1);
    o.title = run.config.name() + ": test split, final model (" + plural(r.test.count, "image") + ", accuracy " +
              accuracy + ")";
    try {
      write_confusion_png((std::filesystem::path(run.run_dir) / "confusion.png").string(), r.test.confusion,
                          r.test.class_names, o);
    } catch (const ImageIOError& e) {
      spdlog::warn("{}", e.what());
    }
  }
};

ObserverRegistrar registrar("confusion", 41, [](const TrainingRun&) { return std::make_unique<ConfusionObserver>(); });

}  // namespace
}  // namespace cnnkit
