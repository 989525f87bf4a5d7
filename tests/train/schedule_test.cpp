// Learning-rate schedules: every registered type, warm-up, and the resolved keys.
#include <gtest/gtest.h>

#include <cmath>

#include "cnnkit/train/schedule.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using namespace cnnkit::test;

namespace {
json schedule(const json& s) {
  auto src = test_source();
  ConfigView v(s, src, "/training/schedule");
  return resolve_schedule(v);
}
std::string schedule_error(const json& s) {
  return config_error_of([&] { schedule(s); });
}
}  // namespace

TEST(Schedule, RegistryHoldsTheDocumentedTypes) {
  auto names = schedule_registry().names();
  for (const char* t : {"constant", "step", "cosine", "one_cycle"})
    EXPECT_NE(std::find(names.begin(), names.end(), t), names.end()) << t;
}

TEST(Schedule, ConstantWithWarmupRisesLinearly) {
  json s = schedule({{"type", "constant"}, {"warmup_epochs", 1}});
  EXPECT_DOUBLE_EQ(scheduled_lr(s, 0.1, 0, 10, 5), 0.01);
  EXPECT_DOUBLE_EQ(scheduled_lr(s, 0.1, 4, 10, 5), 0.05);
  EXPECT_DOUBLE_EQ(scheduled_lr(s, 0.1, 10, 10, 5), 0.1);
  EXPECT_DOUBLE_EQ(scheduled_lr(s, 0.1, 49, 10, 5), 0.1);
}

TEST(Schedule, StepDecaysByGammaEveryStepSizeEpochs) {
  json s = schedule({{"type", "step"}, {"step_size", 2}, {"gamma", 0.5}});
  EXPECT_DOUBLE_EQ(scheduled_lr(s, 1.0, 19, 10, 6), 1.0);
  EXPECT_DOUBLE_EQ(scheduled_lr(s, 1.0, 20, 10, 6), 0.5);
  EXPECT_DOUBLE_EQ(scheduled_lr(s, 1.0, 45, 10, 6), 0.25);
}

TEST(Schedule, CosineEndsAtMinLr) {
  json s = schedule({{"type", "cosine"}, {"min_lr", 0.001}});
  EXPECT_DOUBLE_EQ(scheduled_lr(s, 0.1, 0, 10, 10), 0.1);
  EXPECT_NEAR(scheduled_lr(s, 0.1, 50, 10, 10), (0.1 + 0.001) / 2, 1e-12);
  EXPECT_NEAR(scheduled_lr(s, 0.1, 100, 10, 10), 0.001, 1e-12);
}

TEST(Schedule, OneCyclePeaksAtPctStartAndEndsLow) {
  json s = schedule({{"type", "one_cycle"}, {"pct_start", 0.25}});
  EXPECT_NEAR(scheduled_lr(s, 1.0, 0, 100, 1), 1.0 / 25, 1e-12);
  EXPECT_NEAR(scheduled_lr(s, 1.0, 25, 100, 1), 1.0, 1e-12);
  EXPECT_NEAR(scheduled_lr(s, 1.0, 100, 100, 1), 1.0 / 25 / 1e4, 1e-12);
  double prev = 2.0;
  for (int t = 25; t <= 100; t += 5) {
    double lr = scheduled_lr(s, 1.0, t, 100, 1);
    EXPECT_LE(lr, prev);
    prev = lr;
  }
}

TEST(Schedule, ResolvedConfigShowsOnlyTheTypesKeys) {
  json c = schedule({{"type", "cosine"}});
  EXPECT_EQ(c, (json{{"type", "cosine"}, {"warmup_epochs", 0.0}, {"min_lr", 0.0}}));
  json o = schedule({{"type", "one_cycle"}});
  EXPECT_FALSE(o.contains("warmup_epochs"));
  EXPECT_FALSE(o.contains("gamma"));
  EXPECT_EQ(o["div_factor"], 25.0);
  EXPECT_EQ(resolve_schedule(std::nullopt), (json{{"type", "constant"}, {"warmup_epochs", 0.0}}));
}

TEST(Schedule, ErrorsNameThePlaceAndTheValidChoices) {
  std::string e = schedule_error({{"type", "cosin"}});
  EXPECT_NE(e.find("test.json:/training/schedule/type: must be one of"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'cosine'"), std::string::npos) << e;
  e = schedule_error({{"type", "cosine"}, {"gamma", 0.5}});
  EXPECT_NE(e.find("/training/schedule/gamma: 'gamma' applies to step; this schedule is cosine"), std::string::npos)
      << e;
  e = schedule_error({{"type", "one_cycle"}, {"warmup_epochs", 1}});
  EXPECT_NE(e.find("'warmup_epochs' applies to"), std::string::npos) << e;
  e = schedule_error({{"type", "step"}, {"gama", 0.5}});
  EXPECT_NE(e.find("unknown key 'gama'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'gamma'"), std::string::npos) << e;
  e = schedule_error({{"type", "step"}, {"gamma", 0}});
  EXPECT_NE(e.find("/training/schedule/gamma: must be in (0.0, 1.0]"), std::string::npos) << e;
}

TEST(Schedule, UnknownTypeAtRunTimeIsAnError) {
  EXPECT_THROW(scheduled_lr(json{{"type", "nope"}}, 0.1, 0, 1, 1), Error);
}

TEST(Schedule, LinearDecaysToZeroAtTheLastStep) {
  json s = schedule({{"type", "linear"}});
  EXPECT_EQ(s, (json{{"type", "linear"}, {"pct_start", 0.0}, {"start_factor", 0.0}, {"end_factor", 0.0}}));
  EXPECT_DOUBLE_EQ(scheduled_lr(s, 0.4, 0, 10, 10), 0.4);        // 100 steps: 0..99
  EXPECT_NEAR(scheduled_lr(s, 0.4, 33, 10, 10), 0.4 * 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(scheduled_lr(s, 0.4, 99, 10, 10), 0.0, 1e-12);
}

TEST(Schedule, LinearRisesFromStartFactorThenFallsToEndFactor) {
  // airbench: 0.2·lr -> lr over 23% of the steps, then down to 0.07·lr.
  json s = schedule({{"type", "linear"}, {"pct_start", 0.25}, {"start_factor", 0.2}, {"end_factor", 0.07}});
  EXPECT_NEAR(scheduled_lr(s, 1.0, 0, 101, 1), 0.2, 1e-12);
  EXPECT_NEAR(scheduled_lr(s, 1.0, 25, 100, 1), 1.0, 1e-12);
  EXPECT_NEAR(scheduled_lr(s, 1.0, 99, 100, 1), 0.07, 1e-12);
  EXPECT_NEAR(scheduled_lr(s, 1.0, 62, 100, 1), 1.0 + (0.07 - 1.0) * 37.0 / 74.0, 1e-12);
  EXPECT_NE(schedule_error({{"type", "linear"}, {"warmup_epochs", 1}}).find("'warmup_epochs' applies to"),
            std::string::npos);
  EXPECT_NE(schedule_error({{"type", "linear"}, {"end_factor", 2}}).find("/training/schedule/end_factor"),
            std::string::npos);
}
