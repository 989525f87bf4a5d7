// TrainingRun: everything one training run works with — its config, data, model, optimizer,
// batch pipeline, random generator, loop state and metric history — set up from a config
// (fresh) or from a checkpoint (resume). The loop and the observers share it.
#pragma once
#include <map>
#include <memory>
#include <string>

#include <ATen/core/Generator.h>
#include <c10/core/Device.h>
#include <torch/optim/optimizer.h>
#include <nlohmann/json.hpp>

#include "cnnkit/config/config.h"
#include "cnnkit/data/dataset.h"
#include "cnnkit/data/pipeline.h"
#include "cnnkit/model/checkpoint.h"
#include "cnnkit/model/model.h"
#include "cnnkit/train/loop_state.h"
#include "cnnkit/train/training_config.h"

namespace cnnkit {

struct TrainingRun {
  Config config;
  TrainingConfig tc;
  c10::Device device{c10::kCPU};
  std::string run_dir;
  Datasets data;
  bool has_validation = false;  // false: the per-epoch figures are the test split's
  Model model;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::unique_ptr<BatchPipeline> pipeline;
  at::Generator gen;
  LoopState state;
  nlohmann::json history = nlohmann::json::array();  // one metrics row per completed epoch
  std::int64_t steps_per_epoch = 0;
  // Set by policies between epochs; not part of the saved state.
  bool stop_requested = false;
  bool early_stopped = false;
  int restored_epoch = 0;  // > 0: the weights were restored to this epoch's at the end
  // Tensors that observers keep across a resume (stored in checkpoints under these names).
  std::map<std::string, torch::Tensor> observer_tensors;

  std::int64_t train_size() const { return data.train.size(); }
  const ImageSet& validation_set() const { return has_validation ? data.validation : data.test; }
  std::string validation_name() const { return has_validation ? "validation split" : "test split"; }
  std::string last_checkpoint() const;           // <run dir>/last.pt
  std::string best_checkpoint() const;           // <run dir>/best.pt
  double scheduled_lr(std::int64_t step) const;  // schedule x plateau factor
  // What a checkpoint of this run holds besides weights and optimizer state.
  CheckpointData checkpoint_data() const;
  void save_checkpoint(const std::string& path) const;
};

// Loads the data, builds the model (seeded with training.seed; from training.init_weights when
// set and `fresh`), moves it to the device and makes the optimizer and batch pipeline. Throws DataError / ConfigError
// before anything is written when the data or the model does not fit.
std::unique_ptr<TrainingRun> prepare_training_run(const Config& config, const DataLoadOptions& data, c10::Device device,
                                                  bool fresh = true);

// Continues a run from `ck`: weights, optimizer state, loop state, metric history, generators.
void restore_training_run(TrainingRun& run, const LoadedCheckpoint& ck);

}  // namespace cnnkit
