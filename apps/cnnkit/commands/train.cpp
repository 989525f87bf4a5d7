// cnnkit train --config FILE [--set k=v]... [--run-dir DIR] [--resume RUN_DIR|CKPT]
//              [--data-root DIR] [--json] [--print-config] [--target-accuracy X]
#include <cstdio>
#include <iostream>

#include "cnnkit/core/error.h"
#include "cnnkit/model/checkpoint.h"
#include "cnnkit/train/observers/json_events.h"
#include "cnnkit/train/trainer.h"
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
};

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
                           {"test_loss", r.test["loss"]},
                           {"test_accuracy", acc},
                           {"test_top5_accuracy", r.test["top5_accuracy"]}};
    std::cout << line.dump() << std::endl;
    return;
  }
  std::printf("run: %s\ntest accuracy: %.2f%%  (loss %.4f, top-5 %.2f%%) after %d epochs\n", r.run_dir.c_str(),
              100 * acc, r.test["loss"].get<double>(), 100 * r.test["top5_accuracy"].get<double>(), r.epochs_completed);
}

int run_train(const TrainCliOptions& o, const GlobalOptions& g) {
  if (o.target_accuracy != -1 && (o.target_accuracy < 0 || o.target_accuracy > 1)) {
    throw UsageError("--target-accuracy " + std::to_string(o.target_accuracy) +
                     ": expected a fraction between 0 and 1, e.g. 0.99");
  }
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
  } else {
    if (o.config.empty()) throw UsageError("train: --config FILE is required (or --resume RUN_DIR)");
    config = load_config(o.config, with_init_weights(o));
  }
  if (o.print_config) {
    std::cout << config.resolved().dump(2) << "\n";
    return 0;
  }
  TrainOptions opts;
  opts.run_dir = o.run_dir;
  opts.overwrite = o.overwrite;
  opts.data.data_root = o.data_root;
  opts.resume = resume ? &*resume : nullptr;
  if (o.json) opts.observers.push_back(std::make_unique<JsonEventsObserver>(std::cout));
  TrainResult r = train_model(config, std::move(opts), choose_device(g, &config));
  print_result(r, o.json);
  const double acc = r.test["accuracy"].get<double>();
  if (o.target_accuracy >= 0 && acc < o.target_accuracy) {
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
                  "Exit with code 3 when the final test accuracy (0..1) is below this");
  return {sub, [o, &g]() { return run_train(*o, g); }};
}

}  // namespace cnnkit
