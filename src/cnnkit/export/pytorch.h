// The PyTorch rendering of a ModuleTree: a state dict (weights.pt) and a readable Python
// module (model.py) whose build() returns a torch.nn.Module with exactly the state dict's keys,
// so a Python user can load, run and fine-tune the model with PyTorch alone.
//
// model.py defines: CLASS_NAMES, INPUT_SHAPE (C, H, W), MEAN, STD, normalize(images) for float
// images in [0, 1], build() (the network, PyTorch's default initialisation) and
// load(weights=None, device="cpu") (build() + weights.pt next to model.py, in eval mode).
// Training-mode semantics are PyTorch's: dropout drops, batch norm updates its statistics.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include <ATen/core/Dict.h>
#include <c10/util/intrusive_ptr.h>

#include "cnnkit/data/dataset.h"
#include "cnnkit/export/module_tree.h"

namespace cnnkit {

struct PythonModuleInfo {
  std::string model_name;  // the config's name
  std::string source;      // the checkpoint it came from
  std::string source_sha256;
  Normalization normalization;
  std::vector<std::string> class_names;
};

std::string python_module_source(const ModuleTree& tree, const PythonModuleInfo& info);

// The tree's state as a Dict that torch.load reads as a plain dict of tensors.
c10::Dict<std::string, at::Tensor> state_dict(const ModuleTree& tree);
// torch::pickle_save of state_dict(tree), written atomically.
void write_state_dict(const std::filesystem::path& path, const ModuleTree& tree);

}  // namespace cnnkit
