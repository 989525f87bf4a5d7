#include "cnnkit/train/trainer.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <optional>

#include "cnnkit/core/error.h"
#include "cnnkit/core/interrupt.h"
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

nlohmann::json final_document(const TrainingRun& run, const nlohmann::json& test) {
  nlohmann::json doc = {{"run_dir", run.run_dir},
                        {"epochs", run.state.epoch},
                        {"early_stopped", run.early_stopped},
                        {"best_epoch", run.state.best_epoch},
                        {"best_val_accuracy", run.state.best_val_accuracy},
                        {"training_seconds", run.state.elapsed},
                        {"distributed", run.distributed},
                        {"test", test}};
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
  } else {
    setup();
  }
  spdlog::info(
      "training {} on {}: {} train images, validating on the {} ({} images), {} epochs of {} steps, run dir {}",
      config.name(), device.str(), run->train_size(), run->validation_name(), run->validation_set().size(),
      run->tc.epochs, run->steps_per_epoch, run->run_dir);
  if (parallel) {
    const auto& d = run->distributed;
    spdlog::info(
        "data parallel: {}, {}; global batch {} = {} per process, {} thread{} each; the learning rate is the "
        "config's (the global batch does not change with the number of processes)",
        dist::describe(options.launch), d["backend"].get<std::string>(), run->tc.batch_size,
        d["per_process_batch"].get<std::int64_t>(), d["threads_per_process"].get<int>(),
        d["threads_per_process"].get<int>() == 1 ? "" : "s");
  }

  ObserverList observers(*run, std::move(options.observers), root);
  install_interrupt_handlers();
  TrainingLoop loop(*run, observers, parallel.get());
  loop.run();

  // Final figures on the test split with the final weights.
  const EvalResult test =
      evaluate(run->model, run->data.test, *run->pipeline, run->device, run->data.class_names, loop.eval_options());
  TrainResult result;
  result.run_dir = run->run_dir;
  result.epochs_completed = run->state.epoch;
  result.early_stopped = run->early_stopped;
  result.test = test.to_json();
  result.distributed = run->distributed;
  const FinalReport report{final_document(*run, result.test), test};
  observers.each([&](TrainingObserver& o) { o.on_train_end(*run, report); });
  if (parallel) parallel->barrier();  // rank 0 has written final.json; the store may go
  return result;
}

}  // namespace cnnkit
