// Learning-rate schedules, evaluated per optimizer step (so warm-up and one-cycle are smooth):
//   constant   lr
//   step       lr * gamma^floor(epoch / step_size)
//   cosine     min_lr + (lr - min_lr) * (1 + cos(pi * progress)) / 2
//   one_cycle  lr is the peak: cosine rise from lr/div_factor over pct_start of the steps, then
//              cosine fall to lr/(div_factor*final_div_factor) (PyTorch's OneCycleLR)
// plus an optional linear warm-up over warmup_epochs (any type except one_cycle).
#pragma once
#include <cstdint>

#include "cnnkit/train/training_config.h"

namespace cnnkit {

double scheduled_lr(const ScheduleConfig& s, double base_lr, std::int64_t step, std::int64_t steps_per_epoch,
                    int epochs);

}  // namespace cnnkit
