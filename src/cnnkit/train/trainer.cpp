#include "cnnkit/train/trainer.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <optional>

#include "cnnkit/core/error.h"
#include "cnnkit/core/interrupt.h"
#include "cnnkit/core/strings.h"
#include "cnnkit/core/terminal.h"
#include "cnnkit/eval/evaluator.h"
#include "cnnkit/train/data_parallel.h"
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
                        {"distributed", run.distributed},
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

nlohmann::json single_process(std::int64_t batch) {
  return {{"world_size", 1}, {"backend", "none"}, {"global_batch", batch}, {"per_process_batch", batch}};
}

// What changes when a run continues on another number of processes.
void note_world_size_change(const TrainingRun& run, const LoadedCheckpoint& ck) {
  const int before = ck.meta.contains("distributed") ? ck.meta.at("distributed").value("world_size", 1) : 1;
  const int now = run.distributed.value("world_size", 1);
  if (before == now) return;
  spdlog::info(
      "resuming a run trained on {} process{} on {}: the global batch ({}), the learning rate and the steps per "
      "epoch stay; each process's shard of a batch, its batch-norm statistics and its augmentation and dropout "
      "draws change",
      before, before == 1 ? "" : "es", now, run.tc.batch_size);
}

}  // namespace

TrainResult train_model(const Config& config, TrainOptions options, c10::Device device) {
  std::unique_ptr<DataParallel> parallel;
  if (options.launch.distributed()) {
    dist::ContextOptions co = options.dist;
    co.device = device;
    parallel = DataParallel::create(options.launch, co);  // waits for every rank
  }
  const bool root = !parallel || parallel->is_root();
  std::unique_ptr<TrainingRun> run;
  std::optional<RunDirLock> lock;  // one process per run directory: rank 0's
  auto setup = [&] {
    run = prepare_training_run(config, options.data, device, /*fresh=*/options.resume == nullptr);
    run->distributed = parallel ? parallel->describe(run->tc.batch_size) : single_process(run->tc.batch_size);
    if (options.resume) {
      restore_training_run(*run, *options.resume);
      note_world_size_change(*run, *options.resume);
    } else if (run->tc.init_weights.path.empty()) {
      initialise_weights_from_data(*run);  // e.g. patch whitening; resumed or imported weights are kept
    }
    if (!root) return;
    run->run_dir = choose_run_dir(options, config);
    fs::create_directories(run->run_dir);
    lock.emplace(run->run_dir);
    claim_run_dir(run->run_dir, options);
  };
  if (parallel) {
    parallel->agree(setup);  // a rank that cannot start stops them all, with its message
    run->run_dir = parallel->broadcast_string(run->run_dir);
    parallel->attach(run->model);  // rank 0's parameters and buffers everywhere; gradient buckets
    run->distribute_eval = [p = parallel.get()](EvalOptions o) { return p->eval_options(o); };
  } else {
    setup();
  }
  spdlog::info("training {} on {} in {}: {} (train), {} on the {} ({}), {} of {}, run dir {}", config.name(),
               device.str(), run->tc.describe_precision(device), plural(run->train_size(), "image"),
               run->has_validation ? "validating" : "watching (not selecting)", run->validation_name(),
               plural(run->validation_set().size(), "image"), plural(run->tc.epochs, "epoch"),
               plural(run->steps_per_epoch, "step"), run->run_dir);
  if (!run->has_validation)
    spdlog::warn("no validation split (data.validation_split is 0): the per-epoch figures are test-split figures "
                 "(test_loss, test_accuracy), for watching only; no best.pt is kept");
  if (parallel) {
    const auto& d = run->distributed;
    spdlog::info(
        "data parallel: {}, {}; global batch {} = {} per process, {} each; the learning rate is the "
        "config's (the global batch does not change with the number of processes)",
        dist::describe(options.launch), d["backend"].get<std::string>(), run->tc.batch_size,
        d["per_process_batch"].get<std::int64_t>(), plural(d["threads_per_process"].get<int>(), "thread"));
  }

  ObserverList observers(*run, std::move(options.observers), root);
  install_interrupt_handlers();
  TrainingLoop loop(*run, observers, parallel.get());
  loop.run();

  // Final figures on the test split with the final weights.
  nlohmann::json other_weights = nlohmann::json::object();
  const EvalResult test = final_test(*run, other_weights);
  TrainResult result;
  result.run_dir = run->run_dir;
  result.epochs_completed = run->state.epoch;
  result.early_stopped = run->early_stopped;
  result.test = test.to_json();
  result.distributed = run->distributed;
  result.weights = run->default_weights;
  const FinalReport report{final_document(*run, result.test, other_weights), test};
  observers.each([&](TrainingObserver& o) { o.on_train_end(*run, report); });
  if (parallel) parallel->barrier();  // rank 0 has written final.json; the store may go
  return result;
}

}  // namespace cnnkit
