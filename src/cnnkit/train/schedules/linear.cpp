// linear: piecewise-linear rise and fall (airbench's schedule; with the defaults, a linear
// decay from lr to zero). Over the first pct_start of the steps the rate rises linearly from
// start_factor·lr to lr, then falls linearly to end_factor·lr at the last step.
#include <algorithm>

#include "cnnkit/train/schedule.h"

namespace cnnkit {
namespace {

class Linear : public ScheduleType {
 public:
  std::string doc() const override {
    return "linear rise from start_factor*lr to lr over pct_start of the steps, then linear fall to end_factor*lr; "
           "pct_start 0, start_factor 0, end_factor 0 (a linear decay to zero)";
  }
  std::vector<std::string> keys() const override { return {"pct_start", "start_factor", "end_factor"}; }
  bool takes_warmup() const override { return false; }  // the rising phase is its warm-up
  json resolve(const ConfigView& v) const override {
    json out = {{"pct_start", 0.0}, {"start_factor", 0.0}, {"end_factor", 0.0}};
    if (auto x = v.find("pct_start")) out["pct_start"] = x->as_double_in(0.0, 1.0, true, false);
    if (auto x = v.find("start_factor")) out["start_factor"] = x->as_double_in(0.0, 1.0);
    if (auto x = v.find("end_factor")) out["end_factor"] = x->as_double_in(0.0, 1.0);
    return out;
  }
  double lr(const json& r, double base_lr, const ScheduleClock& c) const override {
    const double up = r.at("pct_start").get<double>() * c.total_steps;
    const double start = r.at("start_factor").get<double>(), end = r.at("end_factor").get<double>();
    if (c.step < up) return base_lr * (start + (1.0 - start) * c.step / up);
    // The last step (total - 1) reaches end_factor exactly.
    const double p = std::min(1.0, (c.step - up) / std::max(1.0, c.total_steps - 1.0 - up));
    return base_lr * (1.0 + (end - 1.0) * p);
  }
};
CNNKIT_REGISTER_SCHEDULE("linear", Linear);

}  // namespace
}  // namespace cnnkit
