#include "cnnkit/train/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace cnnkit {

double scheduled_lr(const ScheduleConfig& s, double base_lr, std::int64_t step, std::int64_t steps_per_epoch,
                    int epochs) {
  const double pi = std::acos(-1.0);
  const double total = static_cast<double>(std::max<std::int64_t>(1, steps_per_epoch * epochs));
  const double t = static_cast<double>(step);
  if (s.type == "one_cycle") {
    double up = std::max(1.0, s.pct_start * total);
    double start = base_lr / s.div_factor, end = start / s.final_div_factor;
    if (t < up) return start + (base_lr - start) * (1 - std::cos(pi * t / up)) / 2;
    double p = std::min(1.0, (t - up) / std::max(1.0, total - up));
    return end + (base_lr - end) * (1 + std::cos(pi * p)) / 2;
  }
  double warm = s.warmup_epochs * static_cast<double>(steps_per_epoch);
  if (t < warm) return base_lr * (t + 1) / warm;
  if (s.type == "step") {
    double epoch = t / static_cast<double>(std::max<std::int64_t>(1, steps_per_epoch));
    return base_lr * std::pow(s.gamma, std::floor(epoch / s.step_size));
  }
  if (s.type == "cosine") {
    double p = std::min(1.0, (t - warm) / std::max(1.0, total - warm));
    return s.min_lr + (base_lr - s.min_lr) * (1 + std::cos(pi * p)) / 2;
  }
  return base_lr;
}

}  // namespace cnnkit
