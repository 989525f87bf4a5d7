#include "cnnkit/train/trainer.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "cnnkit/core/error.h"
#include "cnnkit/core/interrupt.h"
#include "cnnkit/eval/evaluator.h"
#include "cnnkit/train/run_dir.h"
#include "cnnkit/train/training_loop.h"

namespace cnnkit {
namespace fs = std::filesystem;
namespace {

std::string resumed_dir(const TrainOptions& o) {
  return o.resume ? fs::path(o.resume->path).parent_path().string() : std::string();
}

std::string choose_run_dir(const TrainOptions& o, const Config& config) {
  if (!o.run_dir.empty()) return o.run_dir;
  if (o.resume) return resumed_dir(o);
  return create_default_run_dir(config.name());
}

// A new run never writes over another run's checkpoints unless asked to (--overwrite).
void claim_run_dir(const std::string& dir, const TrainOptions& o) {
  std::error_code ec;
  const bool same_as_resumed = o.resume && fs::equivalent(dir, resumed_dir(o), ec);
  if (same_as_resumed || !holds_run(dir)) return;
  if (!o.overwrite) {
    throw UsageError(dir + ": already holds a run; continue it with `cnnkit train --resume " + dir +
                     "`, choose another --run-dir, or pass --overwrite to replace it");
  }
  for (const auto& name : run_file_names()) fs::remove(fs::path(dir) / name, ec);
  spdlog::info("{}: --overwrite: removed the previous run's files", dir);
}

EvalResult final_test(TrainingRun& run) {
  EvalOptions eo;
  eo.batch_size = run.tc.eval_batch_size;
  eo.channels_last = run.tc.channels_last;
  eo.bf16 = run.tc.bf16();
  return evaluate(run.model, run.data.test, *run.pipeline, run.device, run.data.class_names, eo);
}

nlohmann::json final_document(const TrainingRun& run, const nlohmann::json& test) {
  nlohmann::json doc = {{"run_dir", run.run_dir},
                        {"epochs", run.state.epoch},
                        {"early_stopped", run.early_stopped},
                        {"best_epoch", run.state.best_epoch},
                        {"best_val_accuracy", run.state.best_val_accuracy},
                        {"training_seconds", run.state.elapsed},
                        {"test", test}};
  if (run.restored_epoch > 0) doc["restored_epoch"] = run.restored_epoch;
  return doc;
}

}  // namespace

TrainResult train_model(const Config& config, TrainOptions options, c10::Device device) {
  auto run = prepare_training_run(config, options.data, device, /*fresh=*/options.resume == nullptr);
  if (options.resume) restore_training_run(*run, *options.resume);
  run->run_dir = choose_run_dir(options, config);
  fs::create_directories(run->run_dir);
  const RunDirLock lock(run->run_dir);  // one process per run directory
  claim_run_dir(run->run_dir, options);
  spdlog::info(
      "training {} on {}: {} train images, validating on the {} ({} images), {} epochs of {} steps, run dir {}",
      config.name(), device.str(), run->train_size(), run->validation_name(), run->validation_set().size(),
      run->tc.epochs, run->steps_per_epoch, run->run_dir);

  ObserverList observers(*run, std::move(options.observers));
  install_interrupt_handlers();
  TrainingLoop loop(*run, observers);
  loop.run();

  // Final figures on the test split with the final weights.
  const EvalResult test = final_test(*run);
  TrainResult result;
  result.run_dir = run->run_dir;
  result.epochs_completed = run->state.epoch;
  result.early_stopped = run->early_stopped;
  result.test = test.to_json();
  const FinalReport report{final_document(*run, result.test), test};
  observers.each([&](TrainingObserver& o) { o.on_train_end(*run, report); });
  return result;
}

}  // namespace cnnkit
