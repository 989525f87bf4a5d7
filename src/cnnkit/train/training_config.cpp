#include "cnnkit/train/training_config.h"

namespace cnnkit {
namespace {

const std::vector<std::string> kMetrics = {"val_loss", "val_accuracy", "train_loss", "train_accuracy"};

OptimizerConfig parse_optimizer(const std::optional<ConfigView>& v) {
  OptimizerConfig o;
  if (!v) return o;
  v->check_keys({"type", "lr", "weight_decay", "momentum", "nesterov", "betas", "eps", "alpha"});
  o.type = v->get_choice("type", "adam", {"sgd", "adam", "adamw", "rmsprop"});
  if (o.type == "adamw") o.weight_decay = 0.01;
  if (o.type == "sgd") o.lr = 0.01;
  if (o.type == "rmsprop") o.momentum = 0.0;
  if (auto x = v->find("lr")) o.lr = x->as_double_in(0.0, 10.0, false, true);
  if (auto x = v->find("weight_decay")) o.weight_decay = x->as_double_in(0.0, 1.0);
  if (auto x = v->find("momentum")) o.momentum = x->as_double_in(0.0, 1.0, true, false);
  o.nesterov = v->get_bool("nesterov", false);
  if (o.nesterov && o.type != "sgd") v->at("nesterov").fail("nesterov applies to sgd only; optimizer is " + o.type);
  if (o.nesterov && o.momentum <= 0) v->at("nesterov").fail("nesterov needs momentum > 0");
  if (auto x = v->find("betas")) {
    auto b = x->as_double_list(2);
    for (std::size_t i = 0; i < 2; ++i) x->at(i).as_double_in(0.0, 1.0, true, false);
    o.beta1 = b[0];
    o.beta2 = b[1];
  }
  if (auto x = v->find("eps")) o.eps = x->as_double_in(0.0, 1.0, false, true);
  if (auto x = v->find("alpha")) o.alpha = x->as_double_in(0.0, 1.0, false, false);
  return o;
}

ScheduleConfig parse_schedule(const std::optional<ConfigView>& v) {
  ScheduleConfig s;
  if (!v) return s;
  v->check_keys({"type", "warmup_epochs", "step_size", "gamma", "min_lr", "div_factor", "final_div_factor", "pct_start"});
  s.type = v->get_choice("type", "constant", {"constant", "step", "cosine", "one_cycle"});
  if (auto x = v->find("warmup_epochs")) s.warmup_epochs = x->as_double_in(0.0, 1e6);
  if (auto x = v->find("step_size")) s.step_size = x->as_double_in(0.0, 1e6, false, true);
  if (auto x = v->find("gamma")) s.gamma = x->as_double_in(0.0, 1.0, false, true);
  if (auto x = v->find("min_lr")) s.min_lr = x->as_double_in(0.0, 10.0);
  if (auto x = v->find("div_factor")) s.div_factor = x->as_double_in(1.0, 1e6);
  if (auto x = v->find("final_div_factor")) s.final_div_factor = x->as_double_in(1.0, 1e9);
  if (auto x = v->find("pct_start")) s.pct_start = x->as_double_in(0.0, 1.0, false, false);
  return s;
}

PlateauConfig parse_plateau(const std::optional<ConfigView>& v, bool with_factor) {
  PlateauConfig p;
  if (!v || v->json_value().is_null()) return p;
  if (v->json_value().is_boolean()) {
    p.enabled = v->as_bool();
    return p;
  }
  if (with_factor) v->check_keys({"enabled", "metric", "factor", "patience", "min_lr", "min_delta"});
  else v->check_keys({"enabled", "metric", "patience", "min_delta"});
  p.enabled = v->get_bool("enabled", true);
  p.metric = v->get_choice("metric", "val_loss", kMetrics);
  p.patience = static_cast<int>(v->get_int("patience", with_factor ? 3 : 5, 0, 100000));
  if (auto x = v->find("min_delta")) p.min_delta = x->as_double_in(0.0, 1e9);
  if (with_factor) {
    if (auto x = v->find("factor")) p.factor = x->as_double_in(0.0, 1.0, false, false);
    if (auto x = v->find("min_lr")) p.min_lr = x->as_double_in(0.0, 10.0);
  }
  return p;
}

json plateau_json(const PlateauConfig& p, bool with_factor) {
  json j = {{"enabled", p.enabled}, {"metric", p.metric}, {"patience", p.patience}, {"min_delta", p.min_delta}};
  if (with_factor) {
    j["factor"] = p.factor;
    j["min_lr"] = p.min_lr;
  }
  return j;
}

json to_json(const TrainingConfig& t) {
  const auto& o = t.optimizer;
  const auto& s = t.schedule;
  return {{"epochs", t.epochs},
          {"batch_size", t.batch_size},
          {"eval_batch_size", t.eval_batch_size},
          {"seed", t.seed},
          {"optimizer",
           {{"type", o.type}, {"lr", o.lr}, {"weight_decay", o.weight_decay}, {"momentum", o.momentum},
            {"nesterov", o.nesterov}, {"betas", {o.beta1, o.beta2}}, {"eps", o.eps}, {"alpha", o.alpha}}},
          {"schedule",
           {{"type", s.type}, {"warmup_epochs", s.warmup_epochs}, {"step_size", s.step_size}, {"gamma", s.gamma},
            {"min_lr", s.min_lr}, {"div_factor", s.div_factor}, {"final_div_factor", s.final_div_factor}, {"pct_start", s.pct_start}}},
          {"label_smoothing", t.label_smoothing},
          {"grad_clip", t.grad_clip},
          {"precision", t.precision},
          {"device", t.device},
          {"channels_last", t.channels_last},
          {"early_stopping", plateau_json(t.early_stopping, false)},
          {"reduce_on_plateau", plateau_json(t.reduce_on_plateau, true)}};
}

json resolve_training(const std::optional<ConfigView>& v, const ConfigView&) {
  if (!v) return to_json(TrainingConfig{});
  return to_json(TrainingConfig::from(*v));
}

struct TrainingSection {
  TrainingSection() { register_config_section("training", 30, resolve_training); }
};
static TrainingSection section;

}  // namespace

TrainingConfig TrainingConfig::from(const ConfigView& v) {
  v.check_keys({"epochs", "batch_size", "eval_batch_size", "seed", "optimizer", "schedule", "label_smoothing",
                "grad_clip", "precision", "device", "channels_last", "early_stopping", "reduce_on_plateau"});
  TrainingConfig t;
  t.epochs = static_cast<int>(v.get_int("epochs", t.epochs, 1, 100000));
  t.batch_size = static_cast<int>(v.get_int("batch_size", t.batch_size, 1, 1 << 20));
  t.eval_batch_size = static_cast<int>(v.get_int("eval_batch_size", t.eval_batch_size, 1, 1 << 20));
  t.seed = static_cast<std::uint64_t>(v.get_int("seed", 42, 0, INT64_MAX));
  t.optimizer = parse_optimizer(v.find("optimizer"));
  t.schedule = parse_schedule(v.find("schedule"));
  if (auto x = v.find("label_smoothing")) t.label_smoothing = x->as_double_in(0.0, 1.0, true, false);
  if (auto x = v.find("grad_clip")) t.grad_clip = x->as_double_in(0.0, 1e9);
  t.precision = v.get_choice("precision", "fp32", {"fp32", "bf16"});
  t.channels_last = v.get_bool("channels_last", true);
  t.device = v.get_string("device", "auto");
  t.early_stopping = parse_plateau(v.find("early_stopping"), false);
  t.reduce_on_plateau = parse_plateau(v.find("reduce_on_plateau"), true);
  return t;
}

}  // namespace cnnkit
