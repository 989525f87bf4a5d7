// The one training step: it learns, it calls the gradient-sync hook around backward, and a
// non-finite loss is reported with its epoch and batch.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cnnkit/train/optimizer.h"
#include "cnnkit/train/train_step.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using namespace cnnkit::test;

namespace {

Model tiny_model() {
  torch::manual_seed(0);
  return build_model(resolve_doc(model_doc({{{"type", "flatten"}}, {{"type", "dense"}, {"units", 3}}}, 1, 2, 2)));
}

struct CountingSync : GradientSync {
  int forward = 0, before = 0, after = 0, without_loss = 0;
  bool grads_ready_after = false;
  const Model* model = nullptr;
  void before_forward() override { ++forward; }
  void before_backward(const torch::Tensor& loss) override {
    ++before;
    if (!loss.defined()) ++without_loss;
  }
  void after_backward() override {
    ++after;
    grads_ready_after = model->net->parameters()[0].grad().defined();
  }
};

json plain_sgd(double lr) {
  return json{{"type", "sgd"}, {"lr", lr}, {"weight_decay", 0.0}, {"momentum", 0.0}, {"nesterov", false}};
}

}  // namespace

TEST(TrainStep, LowersTheLossAndCallsTheSyncHookAroundBackward) {
  Model model = tiny_model();
  auto opt =
      make_optimizer(model.net->parameters(),
                     json{{"type", "sgd"}, {"lr", 0.5}, {"weight_decay", 0.0}, {"momentum", 0.0}, {"nesterov", false}});
  StepOptions so;
  TrainStep step(model, *opt, so);
  CountingSync sync;
  sync.model = &model;
  step.set_gradient_sync(&sync);
  auto x = torch::randn({8, 1, 2, 2});
  auto y = torch::randint(0, 3, {8}, torch::kInt64);
  double first = step(x, y, {1, 1}).loss.item<double>(), last = first;
  for (int i = 0; i < 20; ++i) last = step(x, y, {1, i + 2}).loss.item<double>();
  EXPECT_LT(last, first);
  EXPECT_EQ(sync.forward, 21);
  EXPECT_EQ(sync.before, 21);
  EXPECT_EQ(sync.after, 21);
  EXPECT_EQ(sync.without_loss, 0);
  EXPECT_TRUE(sync.grads_ready_after);
}

// A data-parallel shard of unequal size: the gradient (so the SGD update) scales with the weight;
// the reported loss does not.
TEST(TrainStep, LossWeightScalesTheGradientNotTheReportedLoss) {
  auto x = torch::randn({4, 1, 2, 2});
  auto y = torch::randint(0, 3, {4}, torch::kInt64);
  auto update = [&](double weight, double* loss) {
    Model model = tiny_model();
    auto before = model.net->parameters()[0].detach().clone();
    auto opt = make_optimizer(model.net->parameters(), plain_sgd(0.1));
    *loss = TrainStep(model, *opt, StepOptions{})(x, y, {1, 1}, weight).loss.item<double>();
    return model.net->parameters()[0].detach() - before;
  };
  double loss1 = 0, loss3 = 0;
  auto d1 = update(1.0, &loss1), d3 = update(3.0, &loss3);
  EXPECT_DOUBLE_EQ(loss1, loss3);
  EXPECT_TRUE(torch::allclose(d3, d1 * 3, 1e-5, 1e-7));
}

// A rank without images in a step: no forward, the sync is still called (without a loss) and the
// optimizer still steps with what the sync left in .grad.
TEST(TrainStep, AnEmptyBatchStillSyncsAndSteps) {
  Model model = tiny_model();
  auto opt = make_optimizer(model.net->parameters(), plain_sgd(0.1));
  TrainStep step(model, *opt, StepOptions{});
  CountingSync sync;
  sync.model = &model;
  step.set_gradient_sync(&sync);
  auto r = step(torch::zeros({0, 1, 2, 2}), torch::zeros({0}, torch::kInt64), {1, 1}, 0.0);
  EXPECT_EQ(r.loss.item<double>(), 0.0);
  EXPECT_EQ(r.logits.sizes(), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(sync.forward, 1);
  EXPECT_EQ(sync.without_loss, 1);
  EXPECT_EQ(sync.after, 1);
}

TEST(TrainStep, LabelSmoothingRaisesTheLossOfConfidentPredictions) {
  Model model = tiny_model();
  auto opt = make_optimizer(
      model.net->parameters(),
      json{{"type", "sgd"}, {"lr", 1e-9}, {"weight_decay", 0.0}, {"momentum", 0.0}, {"nesterov", false}});
  auto x = torch::randn({4, 1, 2, 2});
  auto y = torch::zeros({4}, torch::kInt64);
  StepOptions plain, smooth;
  smooth.label_smoothing = 0.5;
  const double a = TrainStep(model, *opt, plain)(x, y, {}).loss.item<double>();
  const double b = TrainStep(model, *opt, smooth)(x, y, {}).loss.item<double>();
  EXPECT_NE(a, b);
}

TEST(TrainStep, NonFiniteLossNamesEpochAndBatch) {
  Model model = tiny_model();
  auto opt =
      make_optimizer(model.net->parameters(),
                     json{{"type", "sgd"}, {"lr", 0.1}, {"weight_decay", 0.0}, {"momentum", 0.0}, {"nesterov", false}});
  TrainStep step(model, *opt, StepOptions{});
  auto x = torch::full({2, 1, 2, 2}, std::numeric_limits<float>::quiet_NaN());
  auto y = torch::zeros({2}, torch::kInt64);
  try {
    step(x, y, {3, 17});
    FAIL() << "no error";
  } catch (const TrainingError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("non-finite loss (nan) at epoch 3, batch 17; training stopped"), std::string::npos) << m;
  }
  std::string kept = "/nonexistent/last.pt";
  std::string m = non_finite_loss(INFINITY, {2, 5, &kept}, false).what();
  EXPECT_NE(m.find("non-finite loss at epoch 2, at or before batch 5"), std::string::npos) << m;
  EXPECT_EQ(m.find("is kept"), std::string::npos) << m;  // only an existing checkpoint is named
}
