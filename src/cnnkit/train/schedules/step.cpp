// step: lr * gamma^floor(epoch / step_size), epoch counted in fractional steps.
#include <cmath>

#include "cnnkit/train/schedule.h"

namespace cnnkit {
namespace {

class Step : public ScheduleType {
 public:
  std::string doc() const override { return "lr * gamma^floor(epoch / step_size); step_size 10 epochs, gamma 0.1"; }
  std::vector<std::string> keys() const override { return {"step_size", "gamma"}; }
  json resolve(const ConfigView& v) const override {
    json out = {{"step_size", 10.0}, {"gamma", 0.1}};
    if (auto x = v.find("step_size")) out["step_size"] = x->as_double_in(0.0, 1e6, false, true);
    if (auto x = v.find("gamma")) out["gamma"] = x->as_double_in(0.0, 1.0, false, true);
    return out;
  }
  double lr(const json& r, double base_lr, const ScheduleClock& c) const override {
    const double epoch = c.step / c.steps_per_epoch;
    return base_lr * std::pow(r.at("gamma").get<double>(), std::floor(epoch / r.at("step_size").get<double>()));
  }
};
CNNKIT_REGISTER_SCHEDULE("step", Step);

}  // namespace
}  // namespace cnnkit
