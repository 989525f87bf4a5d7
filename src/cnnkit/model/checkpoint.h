// Self-describing checkpoints (DESIGN.md): one file holding a format version, the fully
// resolved config, the weights, and for resuming the optimizer state, epoch, RNG state and
// trainer state. evaluate, featuremap and predict rebuild the model from the file alone.
// Files are written under a temporary name and renamed into place: a crash never leaves a
// half-written checkpoint and never destroys the previous good one.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

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

// Weight sets: weights a checkpoint holds besides the model's own ("raw"), such as an
// exponential moving average of them. meta["weight_sets"] = {NAME: {"prefix": P,
// "description": D}}: the set's tensors are the extra tensors named P + <parameter or buffer
// name>. meta["default_weights"] names the set evaluate, predict and featuremap take when the
// user does not choose ("raw" when absent).
constexpr const char* kRawWeights = "raw";
std::vector<std::string> weight_set_names(const LoadedCheckpoint& ckpt);  // "raw" first
std::string default_weight_set(const LoadedCheckpoint& ckpt);
std::string weight_set_description(const LoadedCheckpoint& ckpt, const std::string& set);
// load_weights, then the set's tensors over them ("raw": nothing more). Throws UsageError for a
// set the checkpoint does not hold (listing those it holds), CheckpointError for a damaged one.
void load_weights(const LoadedCheckpoint& ckpt, Model& model, const std::string& set);

}  // namespace cnnkit
