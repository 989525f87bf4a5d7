// Early stopping and reduce-on-plateau as users of Keras expect them: patience counts the
// epochs without improvement; restore_best_weights ends with the best epoch's weights.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cnnkit/train/observer.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using namespace cnnkit::test;

namespace {

// A run without data: what the policies read (config, training config, model, state).
std::unique_ptr<TrainingRun> policy_run(const json& training) {
  auto run = std::make_unique<TrainingRun>();
  json doc = model_doc({{{"type", "flatten"}}, {{"type", "dense"}, {"units", 2}}}, 1, 2, 2);
  doc["training"] = training;
  run->config = resolve_doc(doc);
  run->tc = TrainingConfig::from(run->config);
  run->model = build_model(run->config);
  run->steps_per_epoch = 10;
  run->has_validation = true;  // the policies watch val_* figures
  return run;
}

std::unique_ptr<TrainingObserver> make(const std::string& name, const TrainingRun& run) {
  return observer_registry().get(name).make(run);
}

// Feeds one epoch with val_loss `loss`; returns whether the run asked to stop.
bool epoch(TrainingObserver& o, TrainingRun& run, double loss) {
  static const EvalResult val;
  run.state.epoch += 1;
  json row = {{"epoch", run.state.epoch},
              {"val_loss", loss},
              {"val_accuracy", 1 - loss},
              {"train_loss", loss},
              {"train_accuracy", 1 - loss}};
  o.on_epoch_end(run, EpochReport{run.state.epoch, row, val, false});
  return run.stop_requested;
}

}  // namespace

TEST(EarlyStopping, TrueMeansTheDocumentedDefaults) {
  auto run = policy_run({{"early_stopping", true}});
  EXPECT_TRUE(run->tc.early_stopping.enabled);
  EXPECT_EQ(run->tc.early_stopping.patience, 5);
  EXPECT_EQ(run->tc.early_stopping.metric, "val_loss");
  auto object = policy_run({{"early_stopping", json::object()}});
  EXPECT_EQ(object->tc.early_stopping.patience, 5);
  EXPECT_EQ(run->config.resolved()["training"]["early_stopping"], (json{{"enabled", true},
                                                                        {"metric", "val_loss"},
                                                                        {"patience", 5},
                                                                        {"min_delta", 0.0},
                                                                        {"restore_best_weights", false}}));
  // Off: only the switch is shown, and no observer is made.
  auto off = policy_run(json::object());
  EXPECT_EQ(off->config.resolved()["training"]["early_stopping"], (json{{"enabled", false}}));
  EXPECT_EQ(make("early_stopping", *off), nullptr);
}

TEST(EarlyStopping, StopsAfterPatienceEpochsWithoutImprovement) {
  auto run = policy_run({{"early_stopping", {{"patience", 2}}}});
  auto o = make("early_stopping", *run);
  ASSERT_NE(o, nullptr);
  EXPECT_FALSE(o->rank0_only());       // every rank must take the same decision
  EXPECT_FALSE(epoch(*o, *run, 0.5));  // best
  EXPECT_FALSE(epoch(*o, *run, 0.6));  // 1 without improvement
  EXPECT_TRUE(epoch(*o, *run, 0.7));   // 2: stop now, as Keras does (not one epoch later)
  EXPECT_TRUE(run->early_stopped);
  EXPECT_EQ(run->state.early.bad_epochs, 2);
}

TEST(EarlyStopping, PatienceZeroStopsAtTheFirstEpochWithoutImprovement) {
  auto run = policy_run({{"early_stopping", {{"patience", 0}, {"metric", "val_accuracy"}}}});
  auto o = make("early_stopping", *run);
  EXPECT_FALSE(epoch(*o, *run, 0.5));  // accuracy 0.5
  EXPECT_FALSE(epoch(*o, *run, 0.4));  // accuracy 0.6: better
  EXPECT_TRUE(epoch(*o, *run, 0.45));  // accuracy 0.55: worse
}

TEST(EarlyStopping, RestoreBestWeightsEndsWithTheBestEpochsWeights) {
  auto run = policy_run({{"early_stopping", {{"patience", 1}, {"restore_best_weights", true}}}});
  auto o = make("early_stopping", *run);
  torch::NoGradGuard no_grad;
  auto weight = run->model.net->named_parameters(true)["dense.linear.weight"];
  weight.fill_(1.0);
  epoch(*o, *run, 0.5);  // best: weights all 1
  weight.fill_(2.0);
  EXPECT_TRUE(epoch(*o, *run, 0.9));
  o->on_fit_end(*run);
  EXPECT_EQ(run->restored_epoch, 1);
  EXPECT_TRUE(torch::all(weight == 1.0).item<bool>());
  // The snapshot is kept as observer tensors, so a resumed run can still restore it.
  EXPECT_EQ(run->observer_tensors.count("early_stopping.best/dense.linear.weight"), 1u);
}

TEST(EarlyStopping, NoRestoreWhenTheLastEpochWasTheBest) {
  auto run = policy_run({{"early_stopping", {{"patience", 3}, {"restore_best_weights", true}}}});
  auto o = make("early_stopping", *run);
  epoch(*o, *run, 0.9);
  epoch(*o, *run, 0.5);
  o->on_fit_end(*run);
  EXPECT_EQ(run->restored_epoch, 0);
}

TEST(ReduceOnPlateau, CutsTheRateAfterPatienceEpochsAndRespectsMinLr) {
  auto run = policy_run({{"optimizer", {{"type", "sgd"}, {"lr", 0.1}}},
                         {"reduce_on_plateau", {{"patience", 1}, {"factor", 0.5}, {"min_lr", 0.03}}}});
  auto o = make("reduce_on_plateau", *run);
  ASSERT_NE(o, nullptr);
  epoch(*o, *run, 0.5);
  EXPECT_DOUBLE_EQ(run->state.lr_factor, 1.0);
  epoch(*o, *run, 0.6);  // one epoch without improvement: patience 1 is used up
  EXPECT_DOUBLE_EQ(run->state.lr_factor, 0.5);
  EXPECT_EQ(run->state.plateau.bad_epochs, 0);  // counting starts again
  epoch(*o, *run, 0.6);
  EXPECT_NEAR(run->state.lr_factor, 0.3, 1e-12);  // 0.25 would go below min_lr 0.03
  EXPECT_FALSE(run->stop_requested);
}

TEST(ReduceOnPlateau, TrueMeansTheDocumentedDefaults) {
  auto run = policy_run({{"reduce_on_plateau", true}});
  EXPECT_EQ(run->tc.reduce_on_plateau.patience, 3);
  EXPECT_DOUBLE_EQ(run->tc.reduce_on_plateau.factor, 0.1);
  EXPECT_DOUBLE_EQ(run->tc.reduce_on_plateau.min_lr, 1e-6);
}

TEST(TrainingConfig, PolicyErrorsNameTheKey) {
  json doc = model_doc({{{"type", "flatten"}}});
  doc["training"] = {{"early_stopping", {{"patience", 2}, {"factor", 0.5}}}};
  std::string e = doc_error(doc);
  EXPECT_NE(e.find("/training/early_stopping/factor: unknown key"), std::string::npos) << e;
  doc["training"] = {{"early_stopping", {{"metric", "accuracy"}}}};
  e = doc_error(doc);
  EXPECT_NE(e.find("/training/early_stopping/metric: must be one of val_loss, val_accuracy"), std::string::npos) << e;
  doc["training"] = {{"reduce_on_plateau", 3}};
  e = doc_error(doc);
  EXPECT_NE(e.find("/training/reduce_on_plateau: must be true, false or an options object"), std::string::npos) << e;
}

TEST(Policies, WatchingValidationFiguresNeedsAValidationSplitEveryEpoch) {
  auto run = policy_run({{"early_stopping", true}});
  run->has_validation = false;
  std::string e = config_error_of([&] { make("early_stopping", *run); });
  EXPECT_NE(e.find("test.json:/training/early_stopping/metric: val_loss needs a validation split"), std::string::npos)
      << e;
  auto plateau = policy_run({{"reduce_on_plateau", {{"metric", "val_accuracy"}}}, {"validate_every", 2}});
  e = config_error_of([&] { make("reduce_on_plateau", *plateau); });
  EXPECT_NE(e.find("/training/reduce_on_plateau/metric: val_accuracy is measured after every epoch only with "
                   "training.validate_every 1; it is 2"),
            std::string::npos)
      << e;
  auto train_metric = policy_run({{"early_stopping", {{"metric", "train_loss"}}}});
  train_metric->has_validation = false;
  EXPECT_NE(make("early_stopping", *train_metric), nullptr);
}
