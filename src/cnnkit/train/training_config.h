// The config's "training" section, resolved with every default filled in:
//   epochs, batch_size, seed, optimizer {type, lr, weight_decay, momentum, nesterov, betas, eps,
//   alpha}, schedule {type constant|step|cosine|one_cycle, warmup_epochs, step_size, gamma,
//   min_lr, div_factor, final_div_factor, pct_start}, label_smoothing, grad_clip, precision fp32|bf16,
//   channels_last, eval_batch_size, early_stopping {metric, patience, min_delta},
//   reduce_on_plateau {metric, factor, patience, min_lr}.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cnnkit/config/config.h"

namespace cnnkit {

struct OptimizerConfig {
  std::string type = "adam";  // sgd | adam | adamw | rmsprop
  double lr = 1e-3;
  double weight_decay = 0.0;
  double momentum = 0.9;  // sgd, rmsprop
  bool nesterov = false;  // sgd
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // adam(w)
  double alpha = 0.99;    // rmsprop smoothing
};

struct ScheduleConfig {
  std::string type = "constant";  // constant | step | cosine | one_cycle
  double warmup_epochs = 0.0;     // linear warm-up from 0 (any type)
  double step_size = 10;          // step: epochs between decays
  double gamma = 0.1;             // step: decay factor
  double min_lr = 0.0;            // cosine: floor
  double div_factor = 25.0;       // one_cycle: starts at lr / div_factor
  double final_div_factor = 1e4;  // one_cycle: ends at lr / (div_factor * final_div_factor)
  double pct_start = 0.3;         // one_cycle: fraction of steps rising
};

struct PlateauConfig {
  bool enabled = false;
  std::string metric = "val_loss";  // val_loss | val_accuracy | train_loss
  double factor = 0.1;
  int patience = 3;
  double min_lr = 1e-6;
  double min_delta = 0.0;
};

struct TrainingConfig {
  int epochs = 10;
  int batch_size = 128;
  int eval_batch_size = 500;
  std::uint64_t seed = 42;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  double label_smoothing = 0.0;
  double grad_clip = 0.0;  // max global L2 norm, 0 = off
  std::string precision = "fp32";  // fp32 | bf16
  std::string device = "auto";     // auto | cpu | cuda | cuda:N (the --device option wins)
  bool channels_last = true;
  PlateauConfig early_stopping;     // factor/min_lr unused
  PlateauConfig reduce_on_plateau;

  static TrainingConfig from(const ConfigView& section);
};

}  // namespace cnnkit
