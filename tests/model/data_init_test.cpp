// Patch whitening (conv2d init "patch_whitening"): after initialise_from_data the layer's
// responses to the training patches are decorrelated with unit variance.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cnnkit/model/data_init.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using namespace cnnkit::test;

namespace {

// Images whose channels and neighbouring pixels are strongly correlated.
torch::Tensor correlated_images(std::int64_t n, std::int64_t c, std::int64_t hw) {
  torch::manual_seed(5);
  auto base = torch::randn({n, 1, hw + 1, hw + 1});
  auto smooth = (base.slice(2, 0, hw).slice(3, 0, hw) + base.slice(2, 1, hw + 1).slice(3, 1, hw + 1)) / 2;
  std::vector<torch::Tensor> channels;
  for (std::int64_t i = 0; i < c; ++i) channels.push_back(smooth * (1.0 + i) + 0.3 * torch::randn({n, 1, hw, hw}));
  return torch::cat(channels, 1);
}

torch::Tensor response_covariance(const torch::Tensor& y) {  // y [N, F, H, W] -> [F, F]
  auto flat = y.permute({0, 2, 3, 1}).reshape({-1, y.size(1)}).to(torch::kFloat64);
  return flat.t().mm(flat) / static_cast<double>(flat.size(0));
}

}  // namespace

TEST(PatchWhitening, ResponsesToTrainingPatchesAreWhite) {
  Model m = build_model(resolve_doc(model_doc({{{"type", "conv2d"}, {"filters", 8}, {"kernel_size", 2},
                                                {"init", "patch_whitening"}, {"whitening_eps", 0.0}},
                                               {{"type", "flatten"}}},
                                              2, 6, 6)));
  ASSERT_TRUE(needs_data_init(m));
  auto x = correlated_images(300, 2, 6);
  auto lines = initialise_from_data(m, x);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("patch whitening from 7500 patches of 300 images"), std::string::npos) << lines[0];
  torch::NoGradGuard no_grad;
  m.net->eval();
  auto y = m.layers[0].module.forward(x);
  EXPECT_TRUE(torch::allclose(response_covariance(y), torch::eye(8, torch::kFloat64), 1e-3, 1e-3))
      << response_covariance(y);
  // Filters in order of decreasing eigenvalue: the first carries the most variance of the raw patches.
  auto* conv = m.layers[0].module.ptr()->modules()[1]->as<torch::nn::Conv2d>();
  ASSERT_NE(conv, nullptr);
  auto norms = conv->weight.flatten(1).norm(2, 1);
  EXPECT_LT(norms[0].item<double>(), norms[7].item<double>());  // v / sqrt(λ): small for large λ
}

TEST(PatchWhitening, BothSignsForTwiceTheComponentsAndTheLayersInputBelowIt) {
  // Layer 1 whitens what layer 0 gives it (3x3 patches of 1 channel: d = 9, filters 18).
  Model m = build_model(resolve_doc(model_doc({{{"type", "scale"}, {"factor", 3.0}},
                                               {{"type", "conv2d"}, {"filters", 18}, {"kernel_size", 3},
                                                {"bias", true}, {"init", "patch_whitening"}}},
                                              1, 8, 8)));
  auto x = correlated_images(50, 1, 8);
  initialise_from_data(m, x);
  torch::nn::Conv2dImpl* conv = nullptr;
  for (const auto& mod : m.layers[1].module.ptr()->modules())
    if (auto* c = mod->as<torch::nn::Conv2d>()) conv = c;
  ASSERT_NE(conv, nullptr);
  EXPECT_TRUE(torch::equal(conv->weight.slice(0, 9, 18), -conv->weight.slice(0, 0, 9)));
  EXPECT_EQ(conv->bias.abs().max().item<double>(), 0.0);
  torch::NoGradGuard no_grad;
  m.net->eval();
  auto y = m.layers[1].module.forward(m.layers[0].module.forward(x)).slice(1, 0, 9);
  auto cov = response_covariance(y);
  // With the default eps (5e-4) the variances are λ/(λ + eps): close to 1 for these patches.
  EXPECT_TRUE(torch::allclose(cov.diagonal(), torch::ones({9}, torch::kFloat64), 0, 0.05)) << cov.diagonal();
}

TEST(PatchWhitening, OnlyTopLevelLayersAndModelsWithoutItAreLeftAlone) {
  Model plain = build_model(resolve_doc(model_doc({{{"type", "flatten"}}}, 1, 2, 2)));
  EXPECT_FALSE(needs_data_init(plain));
  EXPECT_TRUE(initialise_from_data(plain, torch::zeros({1, 1, 2, 2})).empty());
  Model nested = build_model(resolve_doc(model_doc(
      {{{"type", "residual"},
        {"layers", {{{"type", "conv2d"}, {"filters", 2}, {"kernel_size", 1}, {"init", "patch_whitening"}}}}}},
      2, 4, 4)));
  EXPECT_TRUE(needs_data_init(nested));
  std::string e = config_error_of([&] { initialise_from_data(nested, torch::randn({4, 2, 4, 4})); });
  EXPECT_NE(e.find("layer 0.0 ('conv2d'): init \"patch_whitening\" is supported in top-level conv2d layers only"),
            std::string::npos)
      << e;
}
