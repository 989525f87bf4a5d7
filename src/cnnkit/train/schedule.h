// Learning-rate schedules, evaluated every optimizer step (so warm-up and one-cycle are smooth).
// A registry with one file per type (train/schedules/); each states its keys and defaults, so
// the resolved config shows only the settings that apply.
//
//   constant   lr
//   step       lr * gamma^floor(epoch / step_size)
//   cosine     min_lr + (lr - min_lr) * (1 + cos(pi * progress)) / 2, progress after warm-up
//   one_cycle  lr is the peak: cosine rise from lr/div_factor over pct_start of the steps, then
//              cosine fall to lr/(div_factor*final_div_factor) (PyTorch's OneCycleLR)
// Every type but one_cycle takes warmup_epochs: a linear rise from lr/warm-up steps to lr.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cnnkit/config/config_view.h"
#include "cnnkit/core/registry.h"

namespace cnnkit {

struct ScheduleClock {
  double step = 0;  // optimizer steps taken (0-based)
  double steps_per_epoch = 1;
  double total_steps = 1;   // steps_per_epoch * epochs, at least 1
  double warmup_steps = 0;  // warmup_epochs * steps_per_epoch
};

class ScheduleType {
 public:
  virtual ~ScheduleType() = default;
  virtual std::string doc() const = 0;
  virtual std::vector<std::string> keys() const = 0;  // besides type (and warmup_epochs)
  virtual bool takes_warmup() const { return true; }
  // Validates this type's own keys; returns them with defaults filled in.
  virtual json resolve(const ConfigView& section) const = 0;
  // The learning rate after warm-up (`base_lr` is the optimizer's lr).
  virtual double lr(const json& resolved, double base_lr, const ScheduleClock& clock) const = 0;
};

Registry<ScheduleType>& schedule_registry();

template <typename T>
struct ScheduleRegistrar {
  explicit ScheduleRegistrar(const std::string& name) { schedule_registry().add(name, std::make_unique<T>()); }
};
#define CNNKIT_REGISTER_SCHEDULE(name, Type) \
  static ::cnnkit::ScheduleRegistrar<Type> cnnkit_schedule_registrar_##Type(name)

// The resolved "schedule" object: {"type", ["warmup_epochs"], ...the type's keys}.
json resolve_schedule(const std::optional<ConfigView>& section);

// The learning rate at optimizer step `step` (0-based) of a run of `epochs` epochs.
double scheduled_lr(const json& schedule, double base_lr, std::int64_t step, std::int64_t steps_per_epoch, int epochs);

}  // namespace cnnkit
