// cnnkit evaluate --checkpoint FILE|RUN_DIR [--config FILE] [--split test|validation|train]
//                 [--json] [--confusion-png FILE]
#include <iostream>

#include "cnnkit/core/error.h"
#include "cnnkit/data/pipeline.h"
#include "cnnkit/eval/evaluator.h"
#include "cnnkit/eval/trained_model.h"
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
  int batch_size = kDefaultEvalBatchSize;
  bool json = false;
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
  TrainedModel t = load_trained_model(o.checkpoint, "best.pt");
  const Config data_config = o.config.empty() ? with_overrides(t.config, o.sets) : load_config(o.config, o.sets);
  const c10::Device device = choose_device(g, o.config.empty() ? nullptr : &data_config);
  t.model.net->to(device);
  DataLoadOptions load;
  load.data_root = o.data_root;
  load.need_train = o.split == "train" || o.split == "validation";
  load.need_test = o.split == "test";
  Datasets data = load_datasets(data_config, load);
  const ImageSet& set = chosen_split(data, o, data_config);
  const std::vector<std::string> names = o.config.empty() ? t.class_names : data.class_names;
  check_fits(set, t.model, names, data_config);
  BatchPipeline pipeline(data_config, t.normalization, device);
  EvalOptions eo;
  eo.batch_size = o.batch_size;
  EvalResult r = evaluate(t.model, set, pipeline, device, names, eo);
  nlohmann::json j = r.to_json();
  j["checkpoint"] = t.checkpoint.path;
  j["split"] = o.split;
  if (!o.confusion_png.empty()) {
    write_confusion_png(o.confusion_png, r.confusion, names, t.config.name() + " / " + o.split);
    j["confusion_png"] = o.confusion_png;
  }
  if (o.json)
    std::cout << j.dump(2) << "\n";
  else
    std::cout << "checkpoint: " << t.checkpoint.path << "   split: " << o.split << "\n" << format_evaluation(j);
  return 0;
}

}  // namespace

Command register_evaluate(CLI::App& app, const GlobalOptions& g) {
  auto o = std::make_shared<EvaluateOptions>();
  auto* sub = app.add_subcommand("evaluate", "Evaluate a trained model: loss, accuracy, per-class figures, confusion");
  add_checkpoint_option(sub, o->checkpoint)->required();
  add_config_option(sub, o->config, ": evaluate on this config's data instead of the checkpoint's");
  add_set_option(sub, o->sets);
  add_data_root_option(sub, o->data_root);
  sub->add_option("--split", o->split, "Split to evaluate: test|validation|train")
      ->capture_default_str()
      ->check(CLI::IsMember({"test", "validation", "train"}));
  add_batch_size_option(sub, o->batch_size, "Images per forward pass");
  sub->add_option("--confusion-png", o->confusion_png, "Also write a labelled confusion-matrix heatmap PNG");
  add_json_flag(sub, o->json);
  return {sub, [o, &g]() { return run_evaluate(*o, g); }};
}

}  // namespace cnnkit
