// The config's "training" section, resolved with every default filled in (docs/training.md):
//   epochs, batch_size, eval_batch_size, validate_every, seed, optimizer {type, lr, weight_decay, ...the type's
//   keys} (train/optimizer.h), schedule {type, ...the type's keys} (train/schedule.h),
//   label_smoothing, grad_clip, precision fp32|bf16|auto, channels_last, device,
//   early_stopping {metric, patience, min_delta, restore_best_weights},
//   reduce_on_plateau {metric, factor, patience, min_lr, min_delta},
//   ema {mode, decay, every, warmup_power, buffers, validate, use_for_evaluation},
//   init_weights null | {path, partial} ("FILE" is short for {"path": "FILE"}).
// A policy that is off resolves to {"enabled": false}; `true` means its documented defaults.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <c10/core/Device.h>

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

// An average of the weights kept during training (train/observers/ema.cpp, docs/training.md).
// mode "ema": a separate exponential moving average, evaluated and checkpointed beside the raw
// weights. mode "lookahead": the average is copied back into the model after every update
// (Zhang et al.'s lookahead with an EMA as the slow weights, as airbench does) and is the
// weight set the run reports (the model keeps its fast weights). Each update (every `every` steps, at step t of T) does
//   avg = d·avg + (1 − d)·w,   d = decay^every · (t/T)^warmup_power   (warmup_power 0: d = decay^every)
struct EmaConfig {
  bool enabled = false;
  std::string mode = "ema";            // ema | lookahead
  double decay = 0.999;                // per step (lookahead default 0.95)
  int every = 1;                       // steps between updates (lookahead default 5)
  double warmup_power = 0.0;           // ramp of the decay over the run
  std::string buffers = "average";     // batch-norm running statistics: average | copy
  bool validate = true;                // ema: evaluate the average after every epoch too
  bool use_for_evaluation = true;      // ema: best.pt, the final test and evaluate use the average
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
  int validate_every = 1;  // epochs between evaluations of the monitoring split (and always the last); 0 = never
  std::uint64_t seed = 42;
  json optimizer;  // resolved: {"type", "lr", "weight_decay", ...}
  json schedule;   // resolved: {"type", ...}
  double label_smoothing = 0.0;
  double grad_clip = 0.0;          // max global L2 norm, 0 = off
  std::string precision = "fp32";  // fp32 | bf16 | auto, as configured (see effective_precision)
  std::string device = "auto";     // auto | cpu | cuda | cuda:N (the --device option wins)
  bool channels_last = true;
  EarlyStoppingConfig early_stopping;
  PlateauConfig reduce_on_plateau;
  EmaConfig ema;
  InitWeightsConfig init_weights;

  // The base learning rate: optimizer.lr, times batch_size / optimizer.lr_batch_size when that is
  // set (the linear scaling rule).
  double lr() const {
    const double lr = optimizer.at("lr").get<double>();
    if (!optimizer.contains("lr_batch_size")) return lr;
    return lr * static_cast<double>(batch_size) / optimizer.at("lr_batch_size").get<double>();
  }
  // The precision a run on `device` uses: "auto" is bf16 on CUDA and on CPUs that report bf16
  // support (core/runtime_info.h: AVX512-BF16), fp32 elsewhere; fp32 and bf16 are taken as given.
  std::string effective_precision(c10::Device device) const;
  bool bf16(c10::Device device) const { return effective_precision(device) == "bf16"; }
  // For the start-of-run log line: "bf16 (auto: this CPU reports AVX512-BF16)", "fp32", ...
  std::string describe_precision(c10::Device device) const;

  // From a resolved config (every command that trains or measures training reads it here).
  static TrainingConfig from(const Config& config);
};

// The metrics early stopping and reduce-on-plateau can watch.
const std::vector<std::string>& monitor_metrics();

}  // namespace cnnkit
