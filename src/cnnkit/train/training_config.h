// The config's "training" section, resolved with every default filled in (docs/training.md):
//   epochs, batch_size, eval_batch_size, seed, optimizer {type, lr, weight_decay, ...the type's
//   keys} (train/optimizer.h), schedule {type, ...the type's keys} (train/schedule.h),
//   label_smoothing, grad_clip, precision fp32|bf16, channels_last, device,
//   early_stopping {metric, patience, min_delta, restore_best_weights},
//   reduce_on_plateau {metric, factor, patience, min_lr, min_delta},
//   init_weights null | {path, partial} ("FILE" is short for {"path": "FILE"}).
// A policy that is off resolves to {"enabled": false}; `true` means its documented defaults.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cnnkit/config/config.h"
#include "cnnkit/eval/evaluator.h"

namespace cnnkit {

// Shared by early stopping and reduce-on-plateau: what to watch and what counts as better.
struct MonitorConfig {
  bool enabled = false;
  std::string metric = "val_loss";  // val_loss | val_accuracy | train_loss | train_accuracy
  int patience = 0;                 // epochs without improvement tolerated
  double min_delta = 0.0;           // smallest change that counts as an improvement
};

struct EarlyStoppingConfig : MonitorConfig {
  bool restore_best_weights = false;  // end with the weights of the best monitored epoch
};

struct PlateauConfig : MonitorConfig {
  double factor = 0.1;  // lr multiplier on a plateau
  double min_lr = 1e-6;
};

// Weights a fresh run starts from (model/init_weights.h): a PyTorch state dict or a checkpoint.
struct InitWeightsConfig {
  std::string path;      // "" = none
  bool partial = false;  // load the tensors that fit, report the rest
};

struct TrainingConfig {
  int epochs = 10;
  int batch_size = 128;
  int eval_batch_size = kDefaultEvalBatchSize;
  std::uint64_t seed = 42;
  json optimizer;  // resolved: {"type", "lr", "weight_decay", ...}
  json schedule;   // resolved: {"type", ...}
  double label_smoothing = 0.0;
  double grad_clip = 0.0;          // max global L2 norm, 0 = off
  std::string precision = "fp32";  // fp32 | bf16
  std::string device = "auto";     // auto | cpu | cuda | cuda:N (the --device option wins)
  bool channels_last = true;
  EarlyStoppingConfig early_stopping;
  PlateauConfig reduce_on_plateau;
  InitWeightsConfig init_weights;

  double lr() const { return optimizer.at("lr").get<double>(); }
  bool bf16() const { return precision == "bf16"; }

  // From a resolved config (every command that trains or measures training reads it here).
  static TrainingConfig from(const Config& config);
};

// The metrics early stopping and reduce-on-plateau can watch.
const std::vector<std::string>& monitor_metrics();

}  // namespace cnnkit
