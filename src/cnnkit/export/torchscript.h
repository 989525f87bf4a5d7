// The TorchScript rendering of a ModuleTree: a torch::jit::Module built in C++, with the
// model's parameters and buffers registered under the model's own state-dict keys and each
// forward written as TorchScript source. Loadable by torch::jit::load (C++) and torch.jit.load
// (Python) without cnnkit, and accepted by torch.onnx.export.
//
// Ensures: eval semantics whatever train()/eval() is called later (dropout is the identity,
//          batch norm uses the running statistics); with `normalize`, forward takes float
//          images in [0, 1], NCHW, and applies (x - mean) / std per channel itself.
//          Attributes on the top module: class_names (List[str]), mean and std (List[float]),
//          input_shape ([C, H, W]), normalizes_input (bool).
#pragma once
#include <string>
#include <vector>

#include <torch/csrc/jit/api/module.h>

#include "cnnkit/data/dataset.h"
#include "cnnkit/export/module_tree.h"

namespace cnnkit {

struct TorchScriptOptions {
  bool normalize = true;  // false: forward takes already-normalised input (--raw)
  Normalization normalization;
  std::vector<std::string> class_names;
};

torch::jit::Module to_torchscript(const ModuleTree& tree, const TorchScriptOptions& options);

}  // namespace cnnkit
