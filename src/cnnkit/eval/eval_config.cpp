#include "cnnkit/eval/eval_config.h"

namespace cnnkit {
namespace {

constexpr std::int64_t kMaxTranslate = 64;

json resolve_evaluation(const std::optional<ConfigView>& v, const ConfigView&) {
  if (!v) return json();  // optional section: left out
  v->require_object();
  v->check_keys({"tta"});
  TtaOptions tta;
  if (auto t = v->find("tta")) tta = parse_tta(*t);
  return {{"tta", tta.to_json()}};
}

struct EvaluationSection {
  EvaluationSection() { register_config_section("evaluation", 40, resolve_evaluation); }
};
static EvaluationSection section;

}  // namespace

std::string TtaOptions::describe() const {
  if (!enabled()) return "none";
  std::string s = flip ? "flip" : "";
  if (translate > 0) s += std::string(flip ? " + " : "") + "translate " + std::to_string(translate) + " px";
  return s + " (" + std::to_string(views()) + " views)";
}

nlohmann::json TtaOptions::to_json() const { return {{"flip", flip}, {"translate", translate}}; }

TtaOptions parse_tta(const ConfigView& v) {
  TtaOptions t;
  if (v.is_string()) {
    const std::string s = v.as_choice({"none", "flip", "flip_translate"});
    t.flip = s != "none";
    t.translate = s == "flip_translate" ? 1 : 0;
    return t;
  }
  if (!v.is_object()) {
    v.fail("must be \"none\", \"flip\", \"flip_translate\" or {\"flip\": true, \"translate\": 1}; got " +
           ConfigView::render(v.json_value()));
  }
  v.check_keys({"flip", "translate"});
  t.flip = v.get_bool("flip", false);
  t.translate = v.get_int("translate", 0, 0, kMaxTranslate);
  return t;
}

TtaOptions tta_options_from(const Config& config) {
  if (!config.has_section("evaluation")) return {};
  const json& j = config.resolved().at("evaluation");
  if (!j.is_object() || !j.contains("tta")) return {};
  TtaOptions t;
  t.flip = j["tta"].value("flip", false);
  t.translate = j["tta"].value("translate", std::int64_t(0));
  return t;
}

}  // namespace cnnkit
