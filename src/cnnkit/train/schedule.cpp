#include "cnnkit/train/schedule.h"

#include <algorithm>

#include "cnnkit/core/strings.h"

namespace cnnkit {
namespace {

constexpr const char* kDefaultSchedule = "constant";

std::vector<std::string> types_taking(const std::string& key, const std::string& type) {
  std::vector<std::string> out;
  for (const auto& [name, t] : schedule_registry().members()) {
    auto keys = t->keys();
    if (t->takes_warmup()) keys.push_back("warmup_epochs");
    if (name != type && std::find(keys.begin(), keys.end(), key) != keys.end()) out.push_back(name);
  }
  return out;
}

}  // namespace

Registry<ScheduleType>& schedule_registry() {
  static Registry<ScheduleType> registry("schedule");
  return registry;
}

json resolve_schedule(const std::optional<ConfigView>& v) {
  static const json kEmpty = json::object();
  const std::string type = v ? v->get_choice("type", kDefaultSchedule, schedule_registry().names()) : kDefaultSchedule;
  const ScheduleType& t = schedule_registry().get(type);
  json out = {{"type", type}};
  if (t.takes_warmup()) out["warmup_epochs"] = 0.0;
  if (!v) {
    out.update(t.resolve(ConfigView(kEmpty, std::make_shared<ConfigSource>(), "/training/schedule")));
    return out;
  }
  v->require_object();
  std::vector<std::string> valid = {"type"};
  if (t.takes_warmup()) valid.push_back("warmup_epochs");
  for (const auto& k : t.keys()) valid.push_back(k);
  json own = json::object();
  for (const auto& key : v->keys()) {
    if (std::find(valid.begin(), valid.end(), key) != valid.end()) {
      own[key] = v->json_value().at(key);
      continue;
    }
    auto others = types_taking(key, type);
    if (others.empty()) v->check_keys(valid);
    if (v->source().stored) continue;  // older checkpoints stored every type's keys
    v->at(key).fail("'" + key + "' applies to " + join(others, ", ") + "; this schedule is " + type);
  }
  if (t.takes_warmup()) {
    if (auto x = v->find("warmup_epochs")) out["warmup_epochs"] = x->as_double_in(0.0, 1e6);
  }
  out.update(t.resolve(ConfigView(own, v->source_ptr(), v->pointer())));
  return out;
}

double scheduled_lr(const json& s, double base_lr, std::int64_t step, std::int64_t steps_per_epoch, int epochs) {
  const ScheduleType& t = schedule_registry().get(s.at("type").get<std::string>());
  ScheduleClock c;
  c.step = static_cast<double>(step);
  c.steps_per_epoch = static_cast<double>(std::max<std::int64_t>(1, steps_per_epoch));
  c.total_steps = static_cast<double>(std::max<std::int64_t>(1, steps_per_epoch * epochs));
  c.warmup_steps = t.takes_warmup() ? s.value("warmup_epochs", 0.0) * static_cast<double>(steps_per_epoch) : 0.0;
  if (c.step < c.warmup_steps) return base_lr * (c.step + 1) / c.warmup_steps;
  return t.lr(s, base_lr, c);
}

}  // namespace cnnkit
