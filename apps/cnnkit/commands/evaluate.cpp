// cnnkit evaluate --checkpoint FILE|RUN_DIR [--config FILE] [--split test|validation|train]
//                 [--json] [--confusion-png FILE]
#include <iostream>

#include "cnnkit/core/device.h"
#include "cnnkit/core/error.h"
#include "cnnkit/data/pipeline.h"
#include "cnnkit/eval/evaluator.h"
#include "cnnkit/eval/forward.h"
#include "cnnkit/model/checkpoint.h"
#include "cnnkit/viz/confusion_plot.h"
#include "commands/commands.h"

namespace cnnkit {

namespace {
struct EvaluateOptions {
  std::string checkpoint;
  std::string config;
  std::vector<std::string> sets;
  std::string data_root;
  std::string split = "test";
  std::string confusion_png;
  int batch_size = 500;
  bool json = false;
};
}  // namespace

Command register_evaluate(CLI::App& app, const GlobalOptions& g) {
  auto o = std::make_shared<EvaluateOptions>();
  auto* sub = app.add_subcommand("evaluate", "Evaluate a trained model: loss, accuracy, per-class figures, confusion");
  sub->add_option("--checkpoint", o->checkpoint, "Checkpoint file, or a run directory (its best.pt)")->required();
  sub->add_option("-c,--config", o->config, "Evaluate on this config's data instead of the checkpoint's");
  sub->add_option("--set", o->sets, "Override a config value (repeatable)");
  sub->add_option("--data-root", o->data_root, "Dataset root; beats $CNNKIT_DATA and the config's data.root");
  sub->add_option("--split", o->split, "Split to evaluate: test|validation|train")
      ->capture_default_str()
      ->check(CLI::IsMember({"test", "validation", "train"}));
  sub->add_option("--batch-size", o->batch_size, "Images per forward pass")->capture_default_str()->check(CLI::PositiveNumber);
  sub->add_option("--confusion-png", o->confusion_png, "Also write a labelled confusion-matrix heatmap PNG");
  sub->add_flag("--json", o->json, "Print one JSON document on stdout");
  return {sub, [o, &g]() {
            LoadedCheckpoint ck = read_checkpoint(resolve_checkpoint_path(o->checkpoint, "best.pt"));
            Config model_config = ck.config;
            Config data_config = o->config.empty() ? with_overrides(ck.config, o->sets) : load_config(o->config, o->sets);
            Model model = build_model(model_config);
            load_weights(ck, model);
            c10::Device device = resolve_device(device_choice(g, "auto"));
            model.net->to(device);

            DataLoadOptions load;
            load.data_root = o->data_root;
            load.need_train = o->split == "train" || o->split == "validation";
            load.need_test = o->split == "test";
            Datasets data = load_datasets(data_config, load);
            const ImageSet& set = o->split == "test" ? data.test : (o->split == "train" ? data.train : data.validation);
            if (set.size() == 0) {
              throw UsageError("--split " + o->split + ": the " + o->split + " split of " + data_config.source().file +
                               " is empty" + (o->split == "validation" ? " (set data.validation_split)" : ""));
            }
            if (set.images.size(1) != model.input.channels() || set.images.size(2) != model.input.height() ||
                set.images.size(3) != model.input.width()) {
              throw DataError(data_config.source().file + ": images are " + std::to_string(set.images.size(2)) + "×" +
                              std::to_string(set.images.size(3)) + "×" + std::to_string(set.images.size(1)) +
                              " but the model takes " + model.input.str());
            }
            Normalization norm;
            norm.mean = ck.meta.at("normalization").at("mean").get<std::vector<double>>();
            norm.std = ck.meta.at("normalization").at("std").get<std::vector<double>>();
            std::vector<std::string> names = ck.meta.value("class_names", data.class_names);
            if (!o->config.empty()) names = data.class_names;
            if (static_cast<std::int64_t>(names.size()) != model.num_outputs()) {
              throw DataError(data_config.source().file + ": the data has " + std::to_string(names.size()) +
                              " classes but the model has " + std::to_string(model.num_outputs()) + " outputs");
            }
            BatchPipeline pipeline(data_config, norm, device);
            EvalOptions eo;
            eo.batch_size = o->batch_size;
            EvalResult r = evaluate(model, set, pipeline, device, names, eo);
            nlohmann::json j = r.to_json();
            j["checkpoint"] = ck.path;
            j["split"] = o->split;
            if (!o->confusion_png.empty()) {
              write_confusion_png(o->confusion_png, r.confusion, names, model_config.name() + " / " + o->split);
              j["confusion_png"] = o->confusion_png;
            }
            if (o->json) std::cout << j.dump(2) << "\n";
            else std::cout << "checkpoint: " << ck.path << "   split: " << o->split << "\n" << format_evaluation(j);
            return 0;
          }};
}

}  // namespace cnnkit
