// Nice tick values and their labels (viz/axes.h).
#include <gtest/gtest.h>

#include <cmath>

#include "cnnkit/viz/axes.h"

using namespace cnnkit;

namespace {

// Every step is 1, 2 or 5 times a power of ten.
bool nice_step(double step) {
  const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
  return std::abs(mantissa - 1) < 1e-6 || std::abs(mantissa - 2) < 1e-6 || std::abs(mantissa - 5) < 1e-6;
}

}  // namespace

TEST(Axes, TicksAreNiceValuesCoveringTheRange) {
  for (auto [lo, hi] : std::vector<std::pair<double, double>>{
           {1.742, 1.885}, {0.02, 2.31}, {0, 1}, {91.3, 99.7}, {0, 0.001}, {3e-6, 1e-3}, {-0.52, 3.1}, {0, 40}}) {
    const Ticks t = nice_ticks(lo, hi, 6);
    EXPECT_TRUE(nice_step(t.step)) << lo << ".." << hi << ": step " << t.step;
    EXPECT_LE(t.lo(), lo + 1e-12);
    EXPECT_GE(t.hi(), hi - 1e-12);
    EXPECT_LE(t.values.size(), 6u) << lo << ".." << hi;
    EXPECT_GE(t.values.size(), 2u);
    for (double v : t.values) EXPECT_NEAR(std::remainder(v, t.step), 0.0, t.step * 1e-6) << v;
  }
  // 1.742..1.885: ticks 1.74, 1.76, ... or a coarser nice step, never 1.742 / 1.885 themselves.
  const Ticks loss = nice_ticks(1.742, 1.885, 6);
  EXPECT_NEAR(loss.step, 0.05, 1e-12);
  EXPECT_NEAR(loss.lo(), 1.7, 1e-12);
  EXPECT_NEAR(loss.hi(), 1.9, 1e-12);
}

TEST(Axes, MinimumStepKeepsWholeEpochs) {
  const Ticks t = nice_ticks(0, 3, 8, 1.0);
  EXPECT_EQ(t.step, 1.0);
  EXPECT_EQ(t.values, (std::vector<double>{0, 1, 2, 3}));
  const Ticks one = nice_ticks(0, 1, 8);  // a one-epoch run: 0, 0.2, ..., 1
  EXPECT_NEAR(one.step, 0.2, 1e-12);
  EXPECT_EQ(one.values.size(), 6u);
  const Ticks flat = nice_ticks(0.5, 0.5, 6);  // a constant series still gets a range
  EXPECT_LT(flat.lo(), 0.5);
  EXPECT_GT(flat.hi(), 0.5);
}

TEST(Axes, LabelsUseTheDigitsTheStepNeeds) {
  EXPECT_EQ(tick_label(0, 0.5), "0");
  EXPECT_EQ(tick_label(1.5, 0.5), "1.5");
  EXPECT_EQ(tick_label(2, 1), "2");
  EXPECT_EQ(tick_label(1.75, 0.05), "1.75");
  EXPECT_EQ(tick_label(120, 20), "120");
  EXPECT_EQ(tick_label(2e-4, 2e-4), "2e-4");
  EXPECT_EQ(tick_label(1.5e-3, 5e-4), "1.5e-3");
  EXPECT_EQ(tick_label(0.004, 0.002), "0.004");
}
