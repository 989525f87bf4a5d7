// The run directory's descriptive files: config.json (the resolved config) and the model
// summary when training starts; metrics.jsonl / metrics.csv after every epoch; final.json
// (the final test figures) at the end.
#include <filesystem>

#include "cnnkit/core/atomic_file.h"
#include "cnnkit/model/summary.h"
#include "cnnkit/train/observer.h"
#include "cnnkit/train/run_dir.h"

namespace cnnkit {
namespace {
namespace fs = std::filesystem;

class RunFiles : public TrainingObserver {
 public:
  void on_train_begin(TrainingRun& run) override {
    const fs::path dir(run.run_dir);
    auto summary = summarize(run.model, run.config.name());
    write_text_atomically(dir / "config.json", run.config.resolved().dump(2) + "\n");
    write_text_atomically(dir / "summary.json", summary.dump(2) + "\n");
    write_text_atomically(dir / "summary.txt", format_summary(summary));
  }
  void on_epoch_end(TrainingRun& run, const EpochReport&) override { write_metrics_files(run.run_dir, run.history); }
  void on_train_end(TrainingRun& run, const FinalReport& r) override {
    write_text_atomically(fs::path(run.run_dir) / "final.json", r.final_doc.dump(2) + "\n");
  }
};

// After the checkpoint (15), the source of truth: when it cannot be written, metrics.* still
// describe the checkpoint that is kept; a resume rewrites them from its history.
ObserverRegistrar registrar("run_files", 20, [](const TrainingRun&) { return std::make_unique<RunFiles>(); });

}  // namespace
}  // namespace cnnkit
