// cnnkit evaluate [[--checkpoint] FILE|RUN_DIR] [--config FILE] [--split test|validation|train]
//                 [--weights raw|ema] [--tta none|flip|flip_translate] [--json] [--confusion-png FILE]
//                 [--normalize]                         (no checkpoint: the latest run in ./runs)
// A run directory: best.pt when the run chose it on a validation split, else last.pt; the
// report says which and why (eval/trained_model.h). The checkpoint's training precision and
// memory format are used, so evaluating last.pt reproduces the run's final.json.
#include <cstdio>
#include <iostream>

#include "cnnkit/core/error.h"
#include "cnnkit/core/logging.h"
#include "cnnkit/core/strings.h"
#include "cnnkit/core/terminal.h"
#include "cnnkit/data/pipeline.h"
#include "cnnkit/eval/evaluation_report.h"
#include "cnnkit/eval/evaluator.h"
#include "cnnkit/eval/forward.h"
#include "cnnkit/eval/trained_model.h"
#include "cnnkit/train/training_config.h"
#include "cnnkit/viz/confusion_plot.h"
#include "commands/commands.h"
#include "options.h"

namespace cnnkit {

namespace {
struct EvaluateOptions {
  std::string checkpoint;
  std::string config;
  std::vector<std::string> sets;
  std::string data_root;
  std::string split = "test";
  std::string confusion_png;
  std::string weights;
  std::string tta;
  int batch_size = kDefaultEvalBatchSize;
  bool json = false;
  bool normalize = false;
};

const ImageSet& chosen_split(const Datasets& data, const EvaluateOptions& o, const Config& data_config) {
  const ImageSet& set = o.split == "test" ? data.test : (o.split == "train" ? data.train : data.validation);
  if (set.size() == 0) {
    throw UsageError("--split " + o.split + ": the " + o.split + " split of " + data_config.source().file +
                     " is empty" + (o.split == "validation" ? " (set data.validation_split)" : ""));
  }
  return set;
}

void check_fits(const ImageSet& set, const Model& model, const std::vector<std::string>& names,
                const Config& data_config) {
  if (set.images.size(1) != model.input.channels() || set.images.size(2) != model.input.height() ||
      set.images.size(3) != model.input.width()) {
    throw DataError(data_config.source().file + ": images are " + std::to_string(set.images.size(2)) + "×" +
                    std::to_string(set.images.size(3)) + "×" + std::to_string(set.images.size(1)) +
                    " but the model takes " + model.input.str());
  }
  if (static_cast<std::int64_t>(names.size()) != model.num_outputs()) {
    throw DataError(data_config.source().file + ": the data has " + std::to_string(names.size()) +
                    " classes but the model has " + std::to_string(model.num_outputs()) + " outputs");
  }
}

int run_evaluate(const EvaluateOptions& o, const GlobalOptions& g) {
  const CheckpointChoice choice = choose_checkpoint_to_evaluate(default_checkpoint_or_latest(o.checkpoint));
  TrainedModel t = load_trained_model(choice.path, "best.pt", std::nullopt, {}, o.weights);
  const Config data_config = o.config.empty() ? with_overrides(t.config, o.sets) : load_config(o.config, o.sets);
  const c10::Device device = choose_device(g, o.config.empty() ? nullptr : &data_config);
  t.model.net->to(device);
  DataLoadOptions load;
  load.data_root = o.data_root;
  if (o.config.empty()) load.trained_root = trained_data_root(t.checkpoint);  // works from any directory
  load.need_train = o.split == "train" || o.split == "validation";
  load.need_test = o.split == "test";
  Datasets data = load_datasets(data_config, load);
  const ImageSet& set = chosen_split(data, o, data_config);
  const std::vector<std::string> names = o.config.empty() ? t.class_names : data.class_names;
  check_fits(set, t.model, names, data_config);
  BatchPipeline pipeline(data_config, t.normalization, device);
  // As the run's final test did: its precision and memory format, the config's TTA.
  const TrainingConfig tc = TrainingConfig::from(t.config);
  EvalOptions eo;
  eo.batch_size = o.batch_size;
  eo.channels_last = tc.channels_last;
  eo.bf16 = tc.bf16(device);
  if (eo.channels_last) to_channels_last(t.model);
  eo.tta = tta_options_from(data_config);
  if (!o.tta.empty()) {
    const json value = o.tta;
    auto source = std::make_shared<ConfigSource>();
    source->file = "--tta";
    eo.tta = parse_tta(ConfigView(value, source, ""));
  }
  EvalResult r = evaluate(t.model, set, pipeline, device, names, eo);
  nlohmann::json j = r.to_json();
  j["checkpoint"] = t.checkpoint.path;
  j["checkpoint_reason"] = choice.reason;
  j["weights"] = t.weights;
  j["weights_description"] = t.weights_description;
  j["precision"] = eo.bf16 ? "bf16" : "fp32";
  j["split"] = o.split;
  if (!o.confusion_png.empty()) {
    ConfusionOptions co;
    co.normalize = o.normalize;
    char accuracy[32];
    std::snprintf(accuracy, sizeof accuracy, "%.2f%%", 100 * r.top1);
    co.title = t.config.name() + ": " + o.split + " split (" + plural(r.count, "image") + ", accuracy " + accuracy + ")";
    write_confusion_png(o.confusion_png, r.confusion, names, co);
    j["confusion_png"] = o.confusion_png;
  }
  if (o.json) {
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "checkpoint: " << t.checkpoint.path << " (" << choice.reason << ")\n"
              << "weights: " << t.weights << " (" << t.weights_description << ")   split: " << o.split
              << "   precision: " << j["precision"].get<std::string>() << "\n"
              << for_terminal(format_evaluation(j, o.normalize));
    if (!o.confusion_png.empty())
      std::cout << "\nconfusion-matrix image" << (o.normalize ? " (row-normalised)" : "") << " written to "
                << o.confusion_png << "\n";
  }
  return 0;
}

}  // namespace

Command register_evaluate(CLI::App& app, const GlobalOptions& g) {
  auto o = std::make_shared<EvaluateOptions>();
  auto* sub = app.add_subcommand("evaluate", "Evaluate a trained model: loss, accuracy, per-class figures, confusion");
  add_checkpoint_option(sub, o->checkpoint, kRunCheckpointRule, /*positional=*/true);
  add_config_option(sub, o->config, ": evaluate on this config's data instead of the checkpoint's");
  add_set_option(sub, o->sets);
  add_data_root_option(sub, o->data_root);
  sub->add_option("--split", o->split, "Split to evaluate: test|validation|train")
      ->capture_default_str()
      ->check(CLI::IsMember({"test", "validation", "train"}));
  add_batch_size_option(sub, o->batch_size, "Images per forward pass");
  sub->add_option("--weights", o->weights,
                  "Weight set to evaluate: raw, or one the checkpoint holds such as ema (default: the checkpoint's "
                  "default, its EMA weights when the run reported them)");
  sub->add_option("--tta", o->tta,
                  "Test-time augmentation: none|flip|flip_translate (default: the config's evaluation.tta)")
      ->check(CLI::IsMember({"none", "flip", "flip_translate"}));
  sub->add_option("--confusion-png", o->confusion_png, "Also write a labelled confusion-matrix heatmap PNG");
  sub->add_flag("--normalize", o->normalize,
                "Show the confusion matrix row-normalised: each cell as a share of its true class");
  add_json_flag(sub, o->json);
  return {sub, [o, &g]() { return run_evaluate(*o, g); }};
}

}  // namespace cnnkit
