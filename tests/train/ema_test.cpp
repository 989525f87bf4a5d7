// training.ema: the moving average's arithmetic, batch-norm buffers averaged or copied, the
// lookahead copy-back and its slow weights as the reported set, resume from observer_tensors, and the weight set it registers.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "cnnkit/train/observer.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using namespace cnnkit::test;

namespace {

// A run without data: a dense layer with batch norm, and the EMA observer it asks for.
std::unique_ptr<TrainingRun> ema_run(const json& ema) {
  auto run = std::make_unique<TrainingRun>();
  json doc = model_doc({{{"type", "flatten"}}, {{"type", "dense"}, {"units", 2}, {"batch_norm", true}}}, 1, 1, 3);
  doc["training"] = {{"ema", ema}, {"epochs", 2}};
  run->config = resolve_doc(doc);
  run->tc = TrainingConfig::from(run->config);
  torch::manual_seed(3);
  run->model = build_model(run->config);
  run->steps_per_epoch = 10;
  return run;
}

std::unique_ptr<TrainingObserver> observer(const TrainingRun& run) { return observer_registry().get("ema").make(run); }

torch::Tensor& weight(TrainingRun& run) { return run.model.net->named_parameters(true)["dense.linear.weight"]; }
torch::Tensor& running_mean(TrainingRun& run) { return run.model.net->named_buffers(true)["dense.bn.running_mean"]; }

void step(TrainingObserver& o, TrainingRun& run) {
  static EpochMeter meter;
  ++run.state.step;
  o.on_step_end(run, StepEvent{1, run.state.step, meter});
}

void set(torch::Tensor& t, double v) {
  torch::NoGradGuard no_grad;
  t.fill_(v);
}

}  // namespace

TEST(Ema, OffByDefaultAndResolvedWithModeDefaults) {
  auto off = ema_run(false);
  EXPECT_EQ(off->config.resolved()["training"]["ema"], (json{{"enabled", false}}));
  EXPECT_EQ(observer(*off), nullptr);
  auto on = ema_run(true);
  EXPECT_EQ(on->config.resolved()["training"]["ema"],
            (json{{"enabled", true}, {"mode", "ema"}, {"decay", 0.999}, {"every", 1}, {"warmup_power", 0.0},
                  {"buffers", "average"}, {"validate", true}, {"use_for_evaluation", true}}));
  auto la = ema_run({{"mode", "lookahead"}});
  EXPECT_EQ(la->tc.ema.decay, 0.95);
  EXPECT_EQ(la->tc.ema.every, 5);
  EXPECT_FALSE(la->config.resolved()["training"]["ema"].contains("validate"));
  std::string e = config_error_of([] { ema_run({{"mode", "lookahead"}, {"use_for_evaluation", false}}); });
  EXPECT_NE(e.find("/training/ema/use_for_evaluation: applies to mode \"ema\" only"), std::string::npos) << e;
  e = config_error_of([] { ema_run({{"decay", 1.0}}); });
  EXPECT_NE(e.find("/training/ema/decay: must be in [0.0, 1.0)"), std::string::npos) << e;
}

TEST(Ema, AveragesEveryStepAndRegistersTheWeightSet) {
  auto run = ema_run({{"decay", 0.5}, {"buffers", "average"}});
  auto o = observer(*run);
  set(weight(*run), 0.0);
  set(running_mean(*run), 0.0);
  o->on_train_begin(*run);
  ASSERT_EQ(run->weight_sets.count("ema"), 1u);
  EXPECT_EQ(run->default_weights, "ema");
  EXPECT_NE(run->weight_sets["ema"].description.find("decay 0.5"), std::string::npos);
  set(weight(*run), 1.0);
  set(running_mean(*run), 4.0);
  step(*o, *run);  // avg = 0.5·0 + 0.5·1
  step(*o, *run);  // avg = 0.5·0.5 + 0.5·1
  auto& avg = run->observer_tensors.at("ema/dense.linear.weight");
  EXPECT_TRUE(torch::allclose(avg, torch::full_like(avg, 0.75)));
  EXPECT_TRUE(torch::allclose(run->observer_tensors.at("ema/dense.bn.running_mean"), torch::full({2}, 3.0)));
  EXPECT_TRUE(torch::equal(weight(*run), torch::ones_like(weight(*run))));  // the model keeps its own weights
  // Evaluating the set swaps it in and puts the model's weights back.
  run->with_weights("ema", [&] { EXPECT_TRUE(torch::allclose(weight(*run), torch::full_like(avg, 0.75))); });
  EXPECT_TRUE(torch::equal(weight(*run), torch::ones_like(weight(*run))));
}

TEST(Ema, CopiesBuffersWhenAskedAndRampsTheDecay) {
  auto run = ema_run({{"decay", 0.5}, {"buffers", "copy"}, {"every", 2}, {"warmup_power", 1.0}, {"use_for_evaluation", false}});
  auto o = observer(*run);
  set(weight(*run), 0.0);
  o->on_train_begin(*run);
  EXPECT_EQ(run->default_weights, kRawWeights);
  set(weight(*run), 1.0);
  set(running_mean(*run), 4.0);
  step(*o, *run);  // step 1: no update (every 2)
  EXPECT_TRUE(torch::allclose(run->observer_tensors.at("ema/dense.linear.weight"), torch::zeros({2, 3})));
  step(*o, *run);  // step 2 of 20: d = 0.5² · (2/20)¹ = 0.025
  EXPECT_TRUE(torch::allclose(run->observer_tensors.at("ema/dense.linear.weight"), torch::full({2, 3}, 0.975)));
  EXPECT_TRUE(torch::allclose(run->observer_tensors.at("ema/dense.bn.running_mean"), torch::full({2}, 4.0)));
}

TEST(Ema, LookaheadPullsTheModelBackAndReportsTheSlowWeights) {
  auto run = ema_run({{"mode", "lookahead"}, {"decay", 0.5}, {"every", 1}});
  auto o = observer(*run);
  set(weight(*run), 0.0);
  o->on_train_begin(*run);
  ASSERT_EQ(run->weight_sets.count("lookahead"), 1u);
  EXPECT_EQ(run->default_weights, "lookahead");  // the final test, best.pt and evaluate use the slow weights
  EXPECT_FALSE(run->weight_sets["lookahead"].validate);
  set(weight(*run), 1.0);
  step(*o, *run);
  EXPECT_TRUE(torch::allclose(weight(*run), torch::full({2, 3}, 0.5)));  // copied back into the model
  set(weight(*run), 2.0);  // fast weights moved on
  o->on_fit_end(*run);     // the model keeps them (last.pt resumes exactly) ...
  EXPECT_TRUE(torch::allclose(weight(*run), torch::full({2, 3}, 2.0)));
  // ... and the slow weights are what the run reports.
  run->with_weights("lookahead", [&] { EXPECT_TRUE(torch::allclose(weight(*run), torch::full({2, 3}, 0.5))); });
}

TEST(Ema, ResumeContinuesFromTheCheckpointsAverage) {
  auto run = ema_run({{"decay", 0.5}});
  run->state.step = 4;
  run->observer_tensors["ema/dense.linear.weight"] = torch::full({2, 3}, 8.0);
  for (const char* b : {"dense.bn.weight", "dense.bn.bias", "dense.bn.running_mean", "dense.bn.running_var"})
    run->observer_tensors[std::string("ema/") + b] = torch::zeros({2});
  run->observer_tensors["ema/dense.bn.num_batches_tracked"] = torch::zeros({}, torch::kInt64);
  auto o = observer(*run);
  o->on_train_begin(*run);
  set(weight(*run), 0.0);
  step(*o, *run);
  EXPECT_TRUE(torch::allclose(run->observer_tensors.at("ema/dense.linear.weight"), torch::full({2, 3}, 4.0)));
}
