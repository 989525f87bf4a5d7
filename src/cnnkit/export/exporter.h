// `cnnkit export`'s library part: a trained model -> files that run without cnnkit
// (TorchScript, PyTorch state dict + model.py, ONNX) and the manifest that describes them.
//
// Requires: a TrainedModel from load_trained_model (eval/trained_model.h).
// Ensures:  the requested formats are written into out_dir (created when missing), each file
//           atomically; model.ts is checked against the model's own outputs before it is
//           written; the manifest lists the files (bytes, SHA-256), the input shape and layout,
//           the normalisation, the class names, the parameter count, the cnnkit version, the
//           source checkpoint and its SHA-256, and the ONNX opset.
//           A format asked for by name that cannot be written on this machine (ONNX without a
//           python3 that has torch) is reported in `errors` after the others were written;
//           with no formats named, such a format is skipped and listed under "skipped".
// Throws:  UsageError for an unknown format name; ExportError when the model cannot be
//          exported or the folder cannot be written.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cnnkit/eval/trained_model.h"
#include "cnnkit/export/onnx.h"

namespace cnnkit {

struct ExportRequest {
  std::filesystem::path out_dir;
  // Format names; "all" = every format. Empty = every format this machine can write.
  std::vector<std::string> formats;
  bool raw = false;  // leave normalisation out of model.ts / model.onnx
  int opset = kDefaultOnnxOpset;
};

struct ExportResult {
  nlohmann::json manifest;
  std::vector<std::string> errors;  // one line per requested format that could not be written
};

ExportResult export_model(const TrainedModel& trained, const ExportRequest& request);

// The registered format names, in writing order.
std::vector<std::string> export_format_names();

}  // namespace cnnkit
