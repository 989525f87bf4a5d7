// ONNX export: PyTorch's own exporter (torch.onnx.export) run by a python3 that has torch,
// on the TorchScript file cnnkit wrote, so cnnkit itself needs no ONNX code. When python3-onnx
// is installed too, the file is checked with onnx.checker.
//
// The graph has one input "images" [batch, C, H, W] and one output "logits" [batch, classes];
// the batch dimension is dynamic.
#pragma once
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "cnnkit/layers/shape.h"

namespace cnnkit {

constexpr int kDefaultOnnxOpset = 14;
constexpr int kMinOnnxOpset = 9;
constexpr int kMaxOnnxOpset = 17;  // the highest PyTorch 1.13's exporter writes

// "" when a python3 with torch is available, else a one-line reason that says what to install.
std::string onnx_unavailable_reason();

// Converts `torchscript_file` to `onnx_file` (written atomically). Returns what the manifest
// states: {"opset", "input", "output", "checker", "python"}. Throws ExportError.
nlohmann::json export_onnx(const std::filesystem::path& torchscript_file, const std::filesystem::path& onnx_file,
                           const Shape& input, int opset);

}  // namespace cnnkit
