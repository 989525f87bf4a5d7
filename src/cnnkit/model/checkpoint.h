// Self-describing checkpoints (DESIGN.md): one file holding a format version, the fully
// resolved config, the weights, and for resuming the optimizer state, epoch, RNG state and
// trainer state. evaluate, featuremap and predict rebuild the model from the file alone.
// Files are written under a temporary name and renamed into place: a crash never leaves a
// half-written checkpoint and never destroys the previous good one.
#pragma once
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>
#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>

#include "cnnkit/config/config.h"
#include "cnnkit/model/model.h"

namespace cnnkit {

constexpr int kCheckpointFormatVersion = 1;

struct CheckpointData {
  nlohmann::json config;  // resolved config
  // class_names, normalization {mean, std}, epoch, metrics, train_state, created, cnnkit_version
  nlohmann::json meta;
  std::map<std::string, torch::Tensor> tensors;  // RNG states, epoch permutation, ...
};

void save_checkpoint(const std::string& path, const Model& model, const CheckpointData& data,
                     const torch::optim::Optimizer* optimizer);

class LoadedCheckpoint {
 public:
  std::string path;
  Config config;
  nlohmann::json meta;
  std::map<std::string, torch::Tensor> tensors;
  // Restores the optimizer's state saved with the checkpoint (throws if it has none).
  void load_optimizer(torch::optim::Optimizer& optimizer) const;

  std::shared_ptr<torch::serialize::InputArchive> archive;
};

// A file, or a run directory (then `prefer` names the file inside it: "best.pt" or "last.pt").
std::string resolve_checkpoint_path(const std::string& path_or_dir, const std::string& prefer);

// Reads the checkpoint's metadata and config (throws CheckpointError for a missing, corrupt,
// truncated or foreign file, or a newer format).
LoadedCheckpoint read_checkpoint(const std::string& path);

// Copies the checkpoint's weights into `model` (built from the checkpoint's config or from a
// user's config). Throws CheckpointError naming the first parameter whose shape differs.
void load_weights(const LoadedCheckpoint& ckpt, Model& model);

}  // namespace cnnkit
