// cosine: half a cosine from lr down to min_lr over the steps after warm-up.
#include <algorithm>
#include <cmath>

#include "cnnkit/train/schedule.h"

namespace cnnkit {
namespace {

class Cosine : public ScheduleType {
 public:
  std::string doc() const override { return "min_lr + (lr - min_lr) * (1 + cos(pi * progress)) / 2; min_lr 0"; }
  std::vector<std::string> keys() const override { return {"min_lr"}; }
  json resolve(const ConfigView& v) const override {
    json out = {{"min_lr", 0.0}};
    if (auto x = v.find("min_lr")) out["min_lr"] = x->as_double_in(0.0, 10.0);
    return out;
  }
  double lr(const json& r, double base_lr, const ScheduleClock& c) const override {
    const double pi = std::acos(-1.0);
    const double min_lr = r.at("min_lr").get<double>();
    const double p = std::min(1.0, (c.step - c.warmup_steps) / std::max(1.0, c.total_steps - c.warmup_steps));
    return min_lr + (base_lr - min_lr) * (1 + std::cos(pi * p)) / 2;
  }
};
CNNKIT_REGISTER_SCHEDULE("cosine", Cosine);

}  // namespace
}  // namespace cnnkit
