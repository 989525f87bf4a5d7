// Weights in: initialise a built model from a PyTorch state dict or a cnnkit checkpoint, e.g. to
// fine-tune a model trained elsewhere or to start from a model with another number of classes.
//
// Requires: `model` built by build_model; `path` a file holding either
//   - a PyTorch state dict saved as a plain dict: torch.save(dict(model.state_dict()), path)
//     (the keys of `cnnkit export`'s model.py, e.g. "conv2d.conv.weight"), or
//   - a cnnkit checkpoint (its weights; config, optimizer state and epoch are ignored).
// Ensures:  strict (default): every model tensor is in the file with the same shape and the
//           file holds nothing else, or nothing is changed and CheckpointError (exit 1) says in one
//           line what is missing, unexpected and of another shape (long lists are cut short).
//           partial: the tensors present in both with equal shapes are copied; the report lists
//           what was skipped; CheckpointError when nothing matches.
//           Values are converted to the model tensors' dtype and device.
// Throws CheckpointError for a missing, empty or unreadable file; for a Python OrderedDict
// (LibTorch cannot read it: the message says to save dict(model.state_dict())); for a pickled
// torch.nn.Module; for a dict holding something other than tensors.
#pragma once
#include <string>
#include <vector>

#include "cnnkit/model/model.h"

namespace cnnkit {

struct InitWeightsOptions {
  bool partial = false;
  // How a user turns partial loading on, named in the strict-mode error
  // ("--init-weights-partial", "training.init_weights_partial").
  std::string partial_hint = "partial loading";
};

struct InitWeightsReport {
  std::string path;
  std::string source;                   // "PyTorch state dict" or "cnnkit checkpoint"
  std::vector<std::string> loaded;      // model keys that were set
  std::vector<std::string> missing;     // model keys the file lacks (left as initialised)
  std::vector<std::string> unexpected;  // file keys the model lacks
  std::vector<std::string> mismatched;  // "key: [10, 128] in the file, [5, 128] in the model"

  // One line: "w.pt (PyTorch state dict): loaded 14 of 16 tensors; skipped 2 with another shape (...)".
  std::string summary() const;
};

InitWeightsReport load_init_weights(Model& model, const std::string& path, const InitWeightsOptions& options = {});

}  // namespace cnnkit
