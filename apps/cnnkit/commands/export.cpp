// cnnkit export [[--checkpoint] FILE|RUN_DIR] --out DIR [--format torchscript|pytorch|onnx|all ...]
//               [--weights raw|ema] [--raw] [--opset N]        (no checkpoint: the latest run in ./runs)
#include <spdlog/spdlog.h>

#include <iostream>

#include "cnnkit/core/strings.h"
#include "cnnkit/eval/trained_model.h"
#include "cnnkit/export/export_error.h"
#include "cnnkit/export/exporter.h"
#include "commands/commands.h"
#include "options.h"

namespace cnnkit {

namespace {
struct ExportOptions {
  std::string checkpoint;
  std::string out;
  std::vector<std::string> formats;
  std::string weights;
  bool raw = false;
  int opset = kDefaultOnnxOpset;
};
}  // namespace

Command register_export(CLI::App& app, const GlobalOptions&) {
  auto o = std::make_shared<ExportOptions>();
  auto* sub = app.add_subcommand(
      "export", "Write a trained model for use without cnnkit (TorchScript, PyTorch, ONNX); a JSON manifest on stdout");
  add_checkpoint_option(sub, o->checkpoint, kRunCheckpointRule, /*positional=*/true);
  sub->add_option("-o,--out", o->out, "Output folder (created when missing)")->required();
  sub->add_option("-f,--format", o->formats,
                  "Format(s): " + join(export_format_names(), "|") +
                      "|all (repeatable or comma-separated); default: every format this machine can write "
                      "(onnx needs python3 with torch)")
      ->delimiter(',');
  sub->add_option("--weights", o->weights,
                  "Weight set to export: raw, or one the checkpoint holds such as ema (default: the checkpoint's "
                  "default, its EMA weights when the run reported them)");
  sub->add_flag("--raw", o->raw, "Leave normalisation out of model.ts/model.onnx: they take normalised input");
  sub->add_option("--opset", o->opset, "ONNX opset version")->capture_default_str();
  return {sub, [o]() {
            TrainedModel trained =
                load_trained_model(choose_checkpoint_to_evaluate(default_checkpoint_or_latest(o->checkpoint)).path,
                                   "best.pt", std::nullopt, {}, o->weights);
            ExportRequest request;
            request.out_dir = o->out;
            request.formats = o->formats;
            request.raw = o->raw;
            request.opset = o->opset;
            ExportResult r = export_model(trained, request);
            for (const auto& f : r.manifest.at("files")) spdlog::info("wrote {}", f.at("path").get<std::string>());
            if (r.manifest.contains("skipped")) {
              for (const auto& s : r.manifest["skipped"])
                spdlog::warn("skipped {}: {}", s.at("format").get<std::string>(), s.at("reason").get<std::string>());
            }
            std::cout << r.manifest.dump(2) << "\n";
            if (!r.errors.empty()) {
              for (std::size_t i = 1; i < r.errors.size(); ++i) spdlog::error("{}", r.errors[i]);
              throw ExportError(r.errors.front());
            }
            return 0;
          }};
}

}  // namespace cnnkit
