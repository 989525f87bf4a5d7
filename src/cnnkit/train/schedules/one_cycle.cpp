// one_cycle: PyTorch's OneCycleLR with cosine annealing. lr is the peak, reached after
// pct_start of the steps from lr / div_factor; then down to lr / (div_factor * final_div_factor).
#include <algorithm>
#include <cmath>

#include "cnnkit/train/schedule.h"

namespace cnnkit {
namespace {

class OneCycle : public ScheduleType {
 public:
  std::string doc() const override {
    return "cosine rise from lr/div_factor to lr over pct_start of the steps, then down to "
           "lr/(div_factor*final_div_factor); "
           "pct_start 0.3, div_factor 25, final_div_factor 1e4";
  }
  std::vector<std::string> keys() const override { return {"pct_start", "div_factor", "final_div_factor"}; }
  bool takes_warmup() const override { return false; }  // the rising phase is its warm-up
  json resolve(const ConfigView& v) const override {
    json out = {{"pct_start", 0.3}, {"div_factor", 25.0}, {"final_div_factor", 1e4}};
    if (auto x = v.find("pct_start")) out["pct_start"] = x->as_double_in(0.0, 1.0, false, false);
    if (auto x = v.find("div_factor")) out["div_factor"] = x->as_double_in(1.0, 1e6);
    if (auto x = v.find("final_div_factor")) out["final_div_factor"] = x->as_double_in(1.0, 1e9);
    return out;
  }
  double lr(const json& r, double base_lr, const ScheduleClock& c) const override {
    const double pi = std::acos(-1.0);
    const double up = std::max(1.0, r.at("pct_start").get<double>() * c.total_steps);
    const double start = base_lr / r.at("div_factor").get<double>();
    const double end = start / r.at("final_div_factor").get<double>();
    if (c.step < up) return start + (base_lr - start) * (1 - std::cos(pi * c.step / up)) / 2;
    const double p = std::min(1.0, (c.step - up) / std::max(1.0, c.total_steps - up));
    return end + (base_lr - end) * (1 + std::cos(pi * p)) / 2;
  }
};
CNNKIT_REGISTER_SCHEDULE("one_cycle", OneCycle);

}  // namespace
}  // namespace cnnkit
