// cnnkit train --config FILE [--set k=v]... [--run-dir DIR] [--resume RUN_DIR|CKPT]
//              [--data-root DIR] [--json] [--print-config] [--target-accuracy X]
//              [--nproc N] [--dist-backend auto|gloo|nccl] [--dist-timeout S]
// Data-parallel: `--nproc N` starts N workers of this same command line on this machine; under
// torchrun, Slurm or mpirun each process finds its rank in the environment (dist/launch_env.h).
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "cnnkit/core/atomic_file.h"
#include "cnnkit/core/error.h"
#include "cnnkit/core/logging.h"
#include "cnnkit/core/strings.h"
#include "cnnkit/core/terminal.h"
#include "cnnkit/core/threads.h"
#include "cnnkit/dist/launch_env.h"
#include "cnnkit/model/checkpoint.h"
#include "cnnkit/train/observers/json_events.h"
#include "cnnkit/train/trainer.h"
#include "cnnkit/train/training_config.h"
#include "commands/commands.h"
#include "options.h"

namespace cnnkit {

namespace {
struct TrainCliOptions {
  std::string config;
  std::vector<std::string> sets;
  std::string run_dir;
  std::string resume;
  std::string data_root;
  bool json = false;
  bool print_config = false;
  bool overwrite = false;
  std::string init_weights;
  bool init_weights_partial = false;
  double target_accuracy = -1;
  int nproc = 1;
  std::string dist_backend = "auto";
  double dist_timeout = 60;
};

// The headline test accuracy: with test-time augmentation the TTA figure (the config asked
// for it), else the plain one. Both are printed.
double headline_accuracy(const TrainResult& r) {
  return r.test.contains("tta") ? r.test["tta"]["accuracy"].get<double>() : r.test["accuracy"].get<double>();
}

// --init-weights FILE [--init-weights-partial] is training.init_weights, so config.json and
// the checkpoints record it.
std::vector<std::string> with_init_weights(const TrainCliOptions& o) {
  std::vector<std::string> sets = o.sets;
  if (o.init_weights_partial && o.init_weights.empty())
    throw UsageError("--init-weights-partial needs --init-weights FILE");
  if (!o.init_weights.empty()) {
    const nlohmann::json w = {{"path", o.init_weights}, {"partial", o.init_weights_partial}};
    sets.push_back("training.init_weights=" + w.dump());
  }
  return sets;
}

void print_result(const TrainResult& r, bool json) {
  const double acc = r.test["accuracy"].get<double>();
  if (json) {
    nlohmann::json line = {{"event", "final"},
                           {"run_dir", r.run_dir},
                           {"epochs", r.epochs_completed},
                           {"early_stopped", r.early_stopped},
                           {"weights", r.weights},
                           {"test_loss", r.test["loss"]},
                           {"test_accuracy", acc},
                           {"test_top5_accuracy", r.test["top5_accuracy"]}};
    if (r.test.contains("tta")) {
      line["test_accuracy_tta"] = r.test["tta"]["accuracy"];
      line["test_loss_tta"] = r.test["tta"]["loss"];
      line["tta_views"] = r.test["tta"]["views"];
    }
    std::cout << line.dump() << std::endl;
    return;
  }
  std::printf("run: %s\ntest accuracy: %.2f%%  (loss %.4f, top-5 %.2f%%) after %s, %s weights\n",
              r.run_dir.c_str(), 100 * acc, r.test["loss"].get<double>(), 100 * r.test["top5_accuracy"].get<double>(),
              plural(r.epochs_completed, "epoch").c_str(), r.weights.c_str());
  if (r.test.contains("tta"))
    std::printf("test accuracy with test-time augmentation (%d views): %.2f%%  (loss %.4f)\n",
                r.test["tta"]["views"].get<int>(), 100 * r.test["tta"]["accuracy"].get<double>(),
                r.test["tta"]["loss"].get<double>());
}

// When the checkpoint to resume from ends its run (every epoch done, or early stopping ended
// it and nothing was overridden), what to tell the user instead of training nothing.
std::optional<std::string> finished_run_note(const LoadedCheckpoint& ck, const Config& config,
                                             const TrainCliOptions& o) {
  const nlohmann::json state = ck.meta.value("train_state", nlohmann::json::object());
  const int done = state.value("epoch", 0);
  if (state.contains("partial")) return std::nullopt;  // stopped inside an epoch
  const int epochs = TrainingConfig::from(config).epochs;
  const std::string dir = std::filesystem::path(ck.path).parent_path().string();
  const std::string run = dir.empty() ? "." : dir;
  const std::string more = "; to train longer: cnnkit train --resume " + o.resume +
                           " --set training.epochs=" + std::to_string(std::max(done, epochs) + 10);
  const std::string finals = std::filesystem::exists(std::filesystem::path(run) / "final.json")
                                 ? " (test figures in " + (std::filesystem::path(run) / "final.json").string() + ")"
                                 : "";
  if (done >= epochs) {
    return "the run in " + run + " is finished: " + plural(done, "epoch") + " of " + std::to_string(epochs) +
           " done" + finals + more;
  }
  if (!o.sets.empty()) return std::nullopt;
  try {
    const auto final_doc =
        nlohmann::json::parse(read_text_file(std::filesystem::path(run) / "final.json", "final results"));
    if (final_doc.value("early_stopped", false) && final_doc.value("epochs", -1) == done) {
      return "the run in " + run + " is finished: early stopping ended it after " + plural(done, "epoch") + finals +
             "; to train on anyway: cnnkit train --resume " + o.resume + " --set training.early_stopping=false";
    }
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

int run_train(const TrainCliOptions& o, const GlobalOptions& g) {
  if (o.target_accuracy != -1 && (o.target_accuracy < 0 || o.target_accuracy > 1)) {
    throw UsageError("--target-accuracy " + std::to_string(o.target_accuracy) +
                     ": expected a fraction between 0 and 1, e.g. 0.99");
  }
  // A --nproc worker, a rank of torchrun/Slurm/mpirun, or one plain process.
  const dist::LaunchInfo launch = dist::detect_launch(dist::current_environment());
  const bool launcher = o.nproc > 1 && launch.launcher != dist::Launcher::kNproc;
  std::optional<LoadedCheckpoint> resume;
  Config config;
  if (!o.resume.empty()) {
    if (!o.config.empty()) {
      throw UsageError(
          "--resume takes the config from the checkpoint; drop --config (change values "
          "such as training.epochs with --set)");
    }
    if (!o.init_weights.empty()) throw UsageError("--init-weights starts a new run; --resume continues one: drop one");
    resume = read_checkpoint(resolve_checkpoint_path(o.resume, "last.pt"));
    config = with_overrides(resume->config, o.sets);
    if (!o.print_config) {
      if (auto done = finished_run_note(*resume, config, o)) {
        std::cerr << "cnnkit: " << *done << "\n";
        return 0;
      }
    }
  } else {
    if (o.config.empty()) throw UsageError("train: --config FILE is required (or --resume RUN_DIR)");
    config = load_config(o.config, with_init_weights(o));
  }
  if (o.print_config) {
    if (launch.is_root()) std::cout << config.resolved().dump(2) << "\n";
    return 0;
  }
  if (launcher) return launch_local_workers(o.nproc, g);  // the config (or checkpoint) was checked above, once
  if (launch.distributed()) {
    set_log_rank(launch.rank);
    if (g.threads <= 0) configure_threads(0, launch.local_world_size);  // the cores shared on this machine
  }
  TrainOptions opts;
  opts.run_dir = o.run_dir;
  opts.overwrite = o.overwrite;
  opts.data.data_root = o.data_root;
  opts.resume = resume ? &*resume : nullptr;
  opts.launch = launch;
  opts.dist.backend = o.dist_backend;
  opts.dist.timeout = opts.dist.rendezvous_timeout =
      std::chrono::milliseconds(static_cast<std::int64_t>(o.dist_timeout * 1000));
  if (o.json && launch.is_root()) opts.observers.push_back(std::make_unique<JsonEventsObserver>(std::cout));
  TrainResult r = train_model(config, std::move(opts), choose_device(g, &config, launch.local_rank));
  const double acc = headline_accuracy(r);
  const bool missed = o.target_accuracy >= 0 && acc < o.target_accuracy;
  if (!launch.is_root()) return missed ? 3 : 0;  // rank 0 reports; every rank gives the outcome
  print_result(r, o.json);
  if (missed) {
    std::fprintf(stderr, "cnnkit: test accuracy %.4f is below the target %.4f\n", acc, o.target_accuracy);
    return 3;
  }
  return 0;
}

}  // namespace

Command register_train(CLI::App& app, const GlobalOptions& g) {
  auto o = std::make_shared<TrainCliOptions>();
  auto* sub = app.add_subcommand("train", "Train a model from a config; writes a run directory");
  add_config_option(sub, o->config, "; not with --resume, which uses the checkpoint's");
  add_set_option(sub, o->sets);
  sub->add_option("--run-dir", o->run_dir, "Run directory (default: runs/<config-name>-<timestamp>)");
  sub->add_flag("--overwrite", o->overwrite,
                "Start afresh in a --run-dir that already holds a run (replaces its files)");
  sub->add_option("--resume", o->resume, "Continue from a run directory (its last.pt) or a checkpoint file");
  sub->add_option("--init-weights", o->init_weights,
                  "Start from these weights: a PyTorch state dict (torch.save(dict(model.state_dict()), F)) or a "
                  "cnnkit checkpoint (training.init_weights)");
  sub->add_flag("--init-weights-partial", o->init_weights_partial,
                "With --init-weights: load the tensors that fit (e.g. all but a resized last layer), report the rest");
  add_data_root_option(sub, o->data_root);
  add_json_flag(sub, o->json, "Also write each epoch's metrics as a JSON line on stdout");
  sub->add_flag("--print-config", o->print_config, "Print the fully resolved config and exit");
  sub->add_option("--target-accuracy", o->target_accuracy,
                  "Exit with code 3 when the final test accuracy (0..1; the TTA figure when the config asks for TTA) "
                  "is below this");
  add_nproc_option(sub, o->nproc,
                   "Data-parallel: train on N processes of this machine (training.batch_size is the global "
                   "batch, split among them); torchrun, srun and mpirun launches need no option");
  sub->add_option("--dist-backend", o->dist_backend,
                  "Data-parallel communication: auto (NCCL for one GPU per process when built in, else Gloo), "
                  "gloo or nccl")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "gloo", "nccl"}));
  sub->add_option("--dist-timeout", o->dist_timeout,
                  "Data-parallel: seconds to wait for the other processes (rendezvous, and each collective) "
                  "before failing with a message naming them")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  return {sub, [o, &g]() { return run_train(*o, g); }};
}

}  // namespace cnnkit
