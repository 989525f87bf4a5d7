// constant: the optimizer's lr throughout (after an optional warm-up).
#include "cnnkit/train/schedule.h"

namespace cnnkit {
namespace {

class Constant : public ScheduleType {
 public:
  std::string doc() const override { return "the optimizer's lr throughout"; }
  std::vector<std::string> keys() const override { return {}; }
  json resolve(const ConfigView&) const override { return json::object(); }
  double lr(const json&, double base_lr, const ScheduleClock&) const override { return base_lr; }
};
CNNKIT_REGISTER_SCHEDULE("constant", Constant);

}  // namespace
}  // namespace cnnkit
