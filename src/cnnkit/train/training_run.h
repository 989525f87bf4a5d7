// TrainingRun: everything one training run works with — its config, data, model, optimizer,
// batch pipeline, random generator, loop state and metric history — set up from a config
// (fresh) or from a checkpoint (resume). The loop and the observers share it.
#pragma once
#include <functional>
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

// A set of weights an observer keeps besides the model's own (e.g. "ema"), stored in
// observer_tensors as "<name>/<parameter or buffer name>" and in checkpoints as a weight set
// (model/checkpoint.h).
struct WeightSet {
  std::string description;  // for people and final.json
  bool validate = true;     // evaluated on the monitoring split after every epoch, beside the raw weights
};

struct TrainingRun {
  Config config;
  TrainingConfig tc;
  c10::Device device{c10::kCPU};
  std::string run_dir;
  Datasets data;
  bool has_validation = false;  // false: the per-epoch figures are the test split's
  Model model;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  std::vector<double> lr_scales;  // per parameter group (train/optimizer.h), for set_learning_rate
  std::unique_ptr<BatchPipeline> pipeline;
  at::Generator gen;
  LoopState state;
  nlohmann::json history = nlohmann::json::array();  // one metrics row per completed epoch
  std::int64_t steps_per_epoch = 0;
  // Set by policies between epochs; not part of the saved state.
  bool stop_requested = false;
  bool early_stopped = false;
  int restored_epoch = 0;  // > 0: the weights were restored to this epoch's at the end
  // How the run is launched: world size, backend, global batch, ... (DataParallel::describe);
  // recorded in checkpoints and final.json.
  nlohmann::json distributed = nlohmann::json::object();
  // Tensors that observers keep across a resume (stored in checkpoints under these names).
  std::map<std::string, torch::Tensor> observer_tensors;
  // Weight sets kept by observers (registered in their on_train_begin), and the one that
  // decides best.pt, is reported by the final test and is the checkpoints' default_weights.
  std::map<std::string, WeightSet> weight_sets;
  std::string default_weights = kRawWeights;

  std::int64_t train_size() const { return data.train.size(); }
  // The split watched after every epoch: the validation split, or the test split when there is
  // none (then the figures are labelled test_*, never val_*, and no checkpoint is called best).
  const ImageSet& validation_set() const { return has_validation ? data.validation : data.test; }
  std::string validation_name() const { return has_validation ? "validation split" : "test split"; }
  std::string monitor_prefix() const { return has_validation ? "val" : "test"; }  // metrics keys
  // Data-parallel runs set this: it gives each process its part of a split and adds the
  // processes' sums (train/data_parallel.h).
  std::function<EvalOptions(EvalOptions)> distribute_eval;
  // Evaluation settings of this run (batch size, channels-last, precision; TTA when asked;
  // the process's part when data-parallel).
  EvalOptions eval_options(bool tta = false) const;
  // Runs `fn` with weight set `name` loaded into the model ("raw": as it is), then puts the
  // model's own weights back.
  void with_weights(const std::string& name, const std::function<void()>& fn);
  EvalResult evaluate_weights(const std::string& name, const ImageSet& set, bool tta = false);
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

// A fresh run's data-dependent initialisation (model/data_init.h, conv2d init "patch_whitening"):
// from the first kDataInitImages of a seeded shuffle of the training split, normalised, not
// augmented. Nothing to do for most models; a resumed run takes its weights from the checkpoint.
constexpr std::int64_t kDataInitImages = 5000;
void initialise_weights_from_data(TrainingRun& run);

// Continues a run from `ck`: weights, optimizer state, loop state, metric history, generators.
void restore_training_run(TrainingRun& run, const LoadedCheckpoint& ck);

}  // namespace cnnkit
