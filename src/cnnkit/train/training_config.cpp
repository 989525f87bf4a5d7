#include "cnnkit/train/training_config.h"

#include "cnnkit/core/runtime_info.h"
#include "cnnkit/train/optimizer.h"
#include "cnnkit/train/schedule.h"

namespace cnnkit {
namespace {

// Documented defaults (docs/training.md), stated once.
constexpr int kEarlyStoppingPatience = 5;
constexpr int kPlateauPatience = 3;
const std::vector<std::string> kKeys = {
    "epochs",        "batch_size",      "eval_batch_size",   "validate_every", "seed",         "optimizer",
    "schedule",      "label_smoothing", "grad_clip",         "precision",      "device",       "channels_last",
    "early_stopping", "reduce_on_plateau", "ema",            "init_weights"};

// `true`, `false`, or an options object (which means enabled unless it says "enabled": false).
// Fills the monitor fields; returns the view of the options object, if any.
std::optional<ConfigView> resolve_monitor(const std::optional<ConfigView>& v, MonitorConfig& m,
                                          const std::vector<std::string>& extra_keys) {
  if (!v || v->json_value().is_null()) return std::nullopt;
  if (v->json_value().is_boolean()) {
    m.enabled = v->as_bool();
    return std::nullopt;
  }
  if (!v->is_object()) v->fail("must be true, false or an options object; got " + ConfigView::render(v->json_value()));
  std::vector<std::string> keys = {"enabled", "metric", "patience", "min_delta"};
  keys.insert(keys.end(), extra_keys.begin(), extra_keys.end());
  v->check_keys(keys);
  m.enabled = v->get_bool("enabled", true);
  m.metric = v->get_choice("metric", m.metric, monitor_metrics());
  m.patience = static_cast<int>(v->get_int("patience", m.patience, 0, 100000));
  if (auto x = v->find("min_delta")) m.min_delta = x->as_double_in(0.0, 1e9);
  return v;
}

EarlyStoppingConfig parse_early_stopping(const std::optional<ConfigView>& v) {
  EarlyStoppingConfig e;
  e.patience = kEarlyStoppingPatience;
  if (auto o = resolve_monitor(v, e, {"restore_best_weights"}))
    e.restore_best_weights = o->get_bool("restore_best_weights", false);
  return e;
}

PlateauConfig parse_plateau(const std::optional<ConfigView>& v) {
  PlateauConfig p;
  p.patience = kPlateauPatience;
  if (auto o = resolve_monitor(v, p, {"factor", "min_lr"})) {
    if (auto x = o->find("factor")) p.factor = x->as_double_in(0.0, 1.0, false, false);
    if (auto x = o->find("min_lr")) p.min_lr = x->as_double_in(0.0, 10.0);
  }
  return p;
}

EmaConfig parse_ema(const std::optional<ConfigView>& v) {
  EmaConfig e;
  if (!v || v->json_value().is_null()) return e;
  if (v->json_value().is_boolean()) {
    e.enabled = v->as_bool();
    return e;
  }
  if (!v->is_object()) v->fail("must be true, false or an options object; got " + ConfigView::render(v->json_value()));
  v->check_keys({"enabled", "mode", "decay", "every", "warmup_power", "buffers", "validate", "use_for_evaluation"});
  e.enabled = v->get_bool("enabled", true);
  e.mode = v->get_choice("mode", e.mode, {"ema", "lookahead"});
  const bool lookahead = e.mode == "lookahead";
  e.decay = v->has("decay") ? v->at("decay").as_double_in(0.0, 1.0, true, false) : (lookahead ? 0.95 : 0.999);
  e.every = static_cast<int>(v->get_int("every", lookahead ? 5 : 1, 1, 1000000));
  if (auto x = v->find("warmup_power")) e.warmup_power = x->as_double_in(0.0, 100.0);
  e.buffers = v->get_choice("buffers", e.buffers, {"average", "copy"});
  e.validate = v->get_bool("validate", e.validate);
  e.use_for_evaluation = v->get_bool("use_for_evaluation", e.use_for_evaluation);
  if (lookahead) {
    for (const char* key : {"validate", "use_for_evaluation"})
      if (v->has(key)) v->at(key).fail(std::string("applies to mode \"ema\" only (lookahead copies the average into "
                                                   "the model, so there is one set of weights)"));
  }
  return e;
}

json ema_json(const EmaConfig& e) {
  if (!e.enabled) return {{"enabled", false}};
  json j = {{"enabled", true}, {"mode", e.mode},       {"decay", e.decay},
            {"every", e.every}, {"warmup_power", e.warmup_power}, {"buffers", e.buffers}};
  if (e.mode == "ema") {
    j["validate"] = e.validate;
    j["use_for_evaluation"] = e.use_for_evaluation;
  }
  return j;
}

InitWeightsConfig parse_init_weights(const std::optional<ConfigView>& v) {
  InitWeightsConfig w;
  if (!v || v->json_value().is_null()) return w;
  if (v->is_string()) {
    w.path = v->as_string();
  } else {
    if (!v->is_object())
      v->fail("must be a file name or {\"path\": FILE, \"partial\": true|false}; got " +
              ConfigView::render(v->json_value()));
    v->check_keys({"path", "partial"});
    w.path = v->at("path").as_string();
    w.partial = v->get_bool("partial", false);
  }
  if (w.path.empty()) v->fail("must name a file");
  return w;
}

json monitor_json(const MonitorConfig& m) {
  if (!m.enabled) return {{"enabled", false}};
  return {{"enabled", true}, {"metric", m.metric}, {"patience", m.patience}, {"min_delta", m.min_delta}};
}

json to_json(const TrainingConfig& t) {
  json early = monitor_json(t.early_stopping);
  if (t.early_stopping.enabled) early["restore_best_weights"] = t.early_stopping.restore_best_weights;
  json plateau = monitor_json(t.reduce_on_plateau);
  if (t.reduce_on_plateau.enabled) {
    plateau["factor"] = t.reduce_on_plateau.factor;
    plateau["min_lr"] = t.reduce_on_plateau.min_lr;
  }
  return {{"epochs", t.epochs},
          {"batch_size", t.batch_size},
          {"eval_batch_size", t.eval_batch_size},
          {"validate_every", t.validate_every},
          {"seed", t.seed},
          {"optimizer", t.optimizer},
          {"schedule", t.schedule},
          {"label_smoothing", t.label_smoothing},
          {"grad_clip", t.grad_clip},
          {"precision", t.precision},
          {"device", t.device},
          {"channels_last", t.channels_last},
          {"early_stopping", early},
          {"reduce_on_plateau", plateau},
          {"ema", ema_json(t.ema)},
          {"init_weights", t.init_weights.path.empty()
                               ? json(nullptr)
                               : json{{"path", t.init_weights.path}, {"partial", t.init_weights.partial}}}};
}

TrainingConfig parse_training(const ConfigView& v) {
  v.require_object();
  v.check_keys(kKeys);
  TrainingConfig t;
  // 0: no training; the run directory gets the initial model (e.g. training.init_weights) and its test figures.
  t.epochs = static_cast<int>(v.get_int("epochs", t.epochs, 0, 100000));
  t.batch_size = static_cast<int>(v.get_int("batch_size", t.batch_size, 1, 1 << 20));
  t.eval_batch_size = static_cast<int>(v.get_int("eval_batch_size", t.eval_batch_size, 1, 1 << 20));
  t.validate_every = static_cast<int>(v.get_int("validate_every", t.validate_every, 0, 100000));
  t.seed = static_cast<std::uint64_t>(v.get_int("seed", static_cast<std::int64_t>(t.seed), 0, INT64_MAX));
  t.optimizer = resolve_optimizer(v.find("optimizer"));
  t.schedule = resolve_schedule(v.find("schedule"));
  if (auto x = v.find("label_smoothing")) t.label_smoothing = x->as_double_in(0.0, 1.0, true, false);
  if (auto x = v.find("grad_clip")) t.grad_clip = x->as_double_in(0.0, 1e9);
  t.precision = v.get_choice("precision", t.precision, {"fp32", "bf16", "auto"});
  t.channels_last = v.get_bool("channels_last", t.channels_last);
  t.device = v.get_string("device", t.device);
  t.early_stopping = parse_early_stopping(v.find("early_stopping"));
  t.reduce_on_plateau = parse_plateau(v.find("reduce_on_plateau"));
  t.ema = parse_ema(v.find("ema"));
  t.init_weights = parse_init_weights(v.find("init_weights"));
  return t;
}

json resolve_training(const std::optional<ConfigView>& v, const ConfigView&) {
  if (v) return to_json(parse_training(*v));
  TrainingConfig t;
  t.optimizer = resolve_optimizer(std::nullopt);
  t.schedule = resolve_schedule(std::nullopt);
  t.early_stopping.patience = kEarlyStoppingPatience;
  t.reduce_on_plateau.patience = kPlateauPatience;
  return to_json(t);
}

struct TrainingSection {
  TrainingSection() { register_config_section("training", 30, resolve_training); }
};
static TrainingSection section;

}  // namespace

const std::vector<std::string>& monitor_metrics() {
  static const std::vector<std::string> metrics = {"val_loss", "val_accuracy", "train_loss", "train_accuracy"};
  return metrics;
}

std::string TrainingConfig::effective_precision(c10::Device device) const {
  if (precision != "auto") return precision;
  return device.is_cuda() || cpu_has_bf16() ? "bf16" : "fp32";
}

std::string TrainingConfig::describe_precision(c10::Device device) const {
  const std::string p = effective_precision(device);
  if (precision != "auto") return p;
  if (device.is_cuda()) return p + " (auto: CUDA device)";
  return p + (p == "bf16" ? " (auto: this CPU reports AVX512-BF16)" : " (auto: this CPU has no AVX512-BF16)");
}

TrainingConfig TrainingConfig::from(const Config& config) {
  // The resolved section is complete and valid: parsing it again only reads it.
  return parse_training(config.section("training"));
}

}  // namespace cnnkit
