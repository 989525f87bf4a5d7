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

// The final test: the run's default weights (the EMA when training.ema reports it), with TTA
// when the config asks for it; the other weight sets' plain figures beside them.
EvalResult final_test(TrainingRun& run, nlohmann::json& other_weights) {
  const EvalResult test = run.evaluate_weights(run.default_weights, run.data.test, /*tta=*/true);
  std::vector<std::string> others;
  if (run.default_weights != kRawWeights) others.push_back(kRawWeights);
  for (const auto& [name, ws] : run.weight_sets)
    if (name != run.default_weights) others.push_back(name);
  for (const auto& name : others) {
    const EvalResult r = run.evaluate_weights(name, run.data.test);
    other_weights[name] = {{"loss", r.loss}, {"accuracy", r.top1}, {"top5_accuracy", r.top5}};
  }
  return test;
}

std::string weights_description(const TrainingRun& run) {
  if (run.default_weights != kRawWeights) return run.weight_sets.at(run.default_weights).description;
  return "the model's weights after the last epoch";
}

nlohmann::json final_document(const TrainingRun& run, const nlohmann::json& test, const nlohmann::json& other) {
  nlohmann::json doc = {{"run_dir", run.run_dir},
                        {"epochs", run.state.epoch},
                        {"early_stopped", run.early_stopped},
                        {"training_seconds", run.state.elapsed},
                        {"precision", run.tc.effective_precision(run.device)},
                        {"monitoring_split", run.has_validation ? "validation" : "test"},
                        {"weights", run.default_weights},
                        {"weights_description", weights_description(run)},
                        {"test", test}};
  if (run.has_validation) {
    doc["best_epoch"] = run.state.best_epoch;
    doc["best_val_accuracy"] = run.state.best_val_accuracy;
  } else {
    doc["note"] = "no validation split: the per-epoch figures are the test split's (test_*), for watching only; "
                  "no checkpoint was chosen by them (no best.pt)";
  }
  if (!other.empty()) doc["test_other_weights"] = other;
  if (run.restored_epoch > 0) doc["restored_epoch"] = run.restored_epoch;
  return doc;
}

}  // namespace

TrainResult train_model(const Config& config, TrainOptions options, c10::Device device) {
  auto run = prepare_training_run(config, options.data, device, /*fresh=*/options.resume == nullptr);
  if (options.resume)
    restore_training_run(*run, *options.resume);
  else if (run->tc.init_weights.path.empty())
    initialise_weights_from_data(*run);  // e.g. patch whitening; resumed or imported weights are kept
  run->run_dir = choose_run_dir(options, config);
  fs::create_directories(run->run_dir);
  const RunDirLock lock(run->run_dir);  // one process per run directory
  claim_run_dir(run->run_dir, options);
  spdlog::info(
      "training {} on {} in {}: {} train images, {} on the {} ({} images), {} epochs of {} steps, run dir {}",
      config.name(), device.str(), run->tc.describe_precision(device), run->train_size(),
      run->has_validation ? "validating" : "watching (not selecting)", run->validation_name(),
      run->validation_set().size(), run->tc.epochs, run->steps_per_epoch, run->run_dir);
  if (!run->has_validation)
    spdlog::warn("no validation split (data.validation_split is 0): the per-epoch figures are test-split figures "
                 "(test_loss, test_accuracy), for watching only; no best.pt is kept");

  ObserverList observers(*run, std::move(options.observers));
  install_interrupt_handlers();
  TrainingLoop loop(*run, observers);
  loop.run();

  // Final figures on the test split with the final weights.
  nlohmann::json other_weights = nlohmann::json::object();
  const EvalResult test = final_test(*run, other_weights);
  TrainResult result;
  result.run_dir = run->run_dir;
  result.epochs_completed = run->state.epoch;
  result.early_stopped = run->early_stopped;
  result.test = test.to_json();
  result.weights = run->default_weights;
  const FinalReport report{final_document(*run, result.test, other_weights), test};
  observers.each([&](TrainingObserver& o) { o.on_train_end(*run, report); });
  return result;
}

}  // namespace cnnkit
