// The one loader for trained models: a checkpoint file or a run directory -> the model with its
// weights, the normalisation it was trained with and its class names. evaluate, predict,
// featuremap, export and the trainer's resume all go through it, so a damaged checkpoint is
// refused the same way everywhere.
//
// Requires: a cnnkit checkpoint (or a run directory holding best.pt / last.pt).
// Ensures:  model built from the checkpoint's resolved config (or `config` when given, which
//           must accept the same weights), weights loaded, on the CPU, in eval mode;
//           normalization has one finite mean and one finite, positive std per input channel;
//           class_names has exactly one name per model output.
// Throws CheckpointError naming the file and what is wrong (exit 1).
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "cnnkit/config/config.h"
#include "cnnkit/data/dataset.h"
#include "cnnkit/model/checkpoint.h"
#include "cnnkit/model/model.h"

namespace cnnkit {

struct TrainedModel {
  LoadedCheckpoint checkpoint;  // path, stored config, metadata, extra tensors
  Config config;                // the config the model was built from
  Model model;
  Normalization normalization;
  std::vector<std::string> class_names;
  std::string weights;              // the weight set loaded: "raw" or e.g. "ema" (model/checkpoint.h)
  std::string weights_description;  // for people
};

// `prefer`: the file taken from a run directory ("best.pt" or "last.pt").
// `config`: build this config's model instead of the checkpoint's (it must match the weights).
// `overrides`: --set assignments applied to the checkpoint's own config (when no `config`).
// `weights`: the weight set to load; empty: the checkpoint's default (its EMA weights when the
// run kept and reported them, else "raw").
TrainedModel load_trained_model(const std::string& checkpoint_or_run_dir, const std::string& prefer = "best.pt",
                                const std::optional<Config>& config = std::nullopt,
                                const std::vector<std::string>& overrides = {}, const std::string& weights = "");

// Which checkpoint evaluating a run directory takes, and why (said to the user):
//   best.pt when the run chose it on a validation split;
//   last.pt (the final weights, which final.json reports) when the run had no validation split
//   (no best.pt, or an old best.pt chosen by test-split accuracy, which would be biased).
// A checkpoint file is taken as given.
struct CheckpointChoice {
  std::string path;
  std::string reason;
};
CheckpointChoice choose_checkpoint_to_evaluate(const std::string& checkpoint_or_run_dir);

// The normalisation and class names a checkpoint stores, validated against `model`.
Normalization checkpoint_normalization(const LoadedCheckpoint& ck, const Model& model);
std::vector<std::string> checkpoint_class_names(const LoadedCheckpoint& ck, const Model& model);

// The data folder the run was trained on (meta "data_root"), for loading the run's own data
// from any working directory (DataLoadOptions::trained_root); nullopt for older checkpoints.
std::optional<TrainedDataRoot> trained_data_root(const LoadedCheckpoint& ck);

}  // namespace cnnkit
