// FastDropout: the mask's statistics, layout, determinism and gradient, and the fallbacks.
#include "cnnkit/layers/fast_dropout.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

using cnnkit::dropout_mask;
using cnnkit::FastDropout;

TEST(FastDropout, MaskDropsTheRightFractionAndScalesTheRest) {
  auto x = torch::ones({1 << 20});
  for (double p : {0.1, 0.3, 0.5}) {
    auto m = dropout_mask(x, p, 1234);
    double dropped = (m == 0).to(torch::kDouble).mean().item<double>();
    EXPECT_NEAR(dropped, p, 0.003) << p;  // ~6 sigma for 1M draws
    auto kept = m.masked_select(m != 0);
    EXPECT_TRUE(torch::allclose(kept, torch::full_like(kept, 1.0 / (1.0 - p)))) << p;
    EXPECT_NEAR(m.mean().item<double>(), 1.0, 0.01) << p;  // expectation preserved
  }
}

TEST(FastDropout, NeighboursAreIndependent) {
  // Correlation between element i and i+1 of the keep indicator should vanish.
  auto k = (dropout_mask(torch::ones({1 << 20}), 0.5, 7) != 0).to(torch::kDouble);
  auto a = k.slice(0, 0, -1) - 0.5, b = k.slice(0, 1) - 0.5;
  EXPECT_NEAR((a * b).mean().item<double>() / 0.25, 0.0, 0.01);
}

TEST(FastDropout, SeedFixesThePattern) {
  auto x = torch::ones({4096});
  EXPECT_TRUE(torch::equal(dropout_mask(x, 0.2, 5), dropout_mask(x, 0.2, 5)));
  EXPECT_FALSE(torch::equal(dropout_mask(x, 0.2, 5), dropout_mask(x, 0.2, 6)));
}

TEST(FastDropout, ChannelsLastMaskKeepsTheLayout) {
  auto x = torch::randn({4, 8, 5, 5}).contiguous(torch::MemoryFormat::ChannelsLast);
  auto m = dropout_mask(x, 0.25, 3);
  EXPECT_EQ(m.strides(), x.strides());
  FastDropout d(0.25);
  torch::manual_seed(11);
  auto y = d(x);
  EXPECT_TRUE(y.is_contiguous(torch::MemoryFormat::ChannelsLast));
  // Every output element is either 0 or the input scaled by 1/(1-p).
  auto kept = y != 0;
  EXPECT_TRUE(torch::allclose(y.masked_select(kept), (x / 0.75).masked_select(kept)));
}

TEST(FastDropout, ManualSeedMakesForwardReproducible) {
  FastDropout d(0.5);
  auto x = torch::randn({64, 32});
  torch::manual_seed(42);
  auto a = d(x);
  auto b = d(x);
  torch::manual_seed(42);
  auto c = d(x);
  EXPECT_TRUE(torch::equal(a, c));
  EXPECT_FALSE(torch::equal(a, b));  // successive calls draw new masks
}

TEST(FastDropout, GradientFlowsThroughKeptElementsOnly) {
  FastDropout d(0.4);
  auto x = torch::randn({256, 16}).requires_grad_(true);
  auto y = d(x);
  y.sum().backward();
  auto expected = (y != 0).to(torch::kFloat) / 0.6;
  EXPECT_TRUE(torch::allclose(x.grad(), expected));
}

TEST(FastDropout, IdentityInEvalModeAndAtRateZero) {
  auto x = torch::randn({8, 8});
  FastDropout d(0.5);
  d->eval();
  EXPECT_TRUE(torch::equal(d(x), x));
  FastDropout zero(0.0);
  EXPECT_TRUE(torch::equal(zero(x), x));
}

TEST(FastDropout, OtherDtypesAndLayoutsFallBackToTorchDropout) {
  FastDropout d(0.5);
  auto x = torch::ones({1 << 16}, torch::kDouble);
  auto y = d(x);
  EXPECT_EQ(y.scalar_type(), torch::kDouble);
  EXPECT_NEAR((y == 0).to(torch::kDouble).mean().item<double>(), 0.5, 0.02);
  auto strided = torch::ones({64, 64}).slice(1, 0, 64, 2);  // not dense
  auto z = d(strided);
  EXPECT_EQ(z.sizes(), strided.sizes());
  EXPECT_NEAR((z == 0).to(torch::kDouble).mean().item<double>(), 0.5, 0.05);
  EXPECT_THROW(dropout_mask(strided, 0.5, 1), c10::Error);
  EXPECT_THROW(dropout_mask(torch::ones({4}), 1.0, 1), c10::Error);
}
