// The layers and layer options the fast CIFAR recipes need: scale, batch-norm options (scale,
// center, momentum, epsilon; also inside conv2d and dense), conv2d's maxpool and trainable keys,
// the dirac init, and the checks of init "patch_whitening" (the whitening itself: model/data_init).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cnnkit/layers/layer_registry.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using cnnkit::test::build_one;
using cnnkit::test::config_error_of;
using cnnkit::test::forward;

namespace {

std::vector<std::string> child_names(const BuiltLayer& layer) {
  std::vector<std::string> names;
  for (const auto& item : layer.module.ptr()->named_children()) names.push_back(item.key());
  return names;
}

template <typename T>
T* find_module(const BuiltLayer& layer) {
  for (const auto& m : layer.module.ptr()->modules(/*include_self=*/true))
    if (auto* x = m->as<T>()) return x;
  return nullptr;
}

}  // namespace

TEST(Scale, MultipliesByAFixedFactor) {
  BuiltLayer s = build_one({{"type", "scale"}, {"factor", 0.125}}, Shape::flat(4));
  auto x = torch::tensor({1.0f, -2.0f, 8.0f, 0.0f}).reshape({1, 4});
  EXPECT_TRUE(torch::equal(forward(s, x), x * 0.125));
  EXPECT_TRUE(s.module.ptr()->parameters().empty());
  EXPECT_EQ(s.output, Shape::flat(4));
  EXPECT_NE(config_error_of([] { build_one({{"type", "scale"}, {"factor", 0}}, Shape::flat(4)); })
                .find("/layers/0/factor: must not be 0"),
            std::string::npos);
  EXPECT_NE(config_error_of([] { build_one({{"type", "scale"}}, Shape::flat(4)); }).find("missing required field 'factor'"),
            std::string::npos);
}

TEST(BatchNormOptions, ScaleAndCenterFreezeGammaAndBeta) {
  BuiltLayer b = build_one({{"type", "batch_norm"}, {"scale", false}, {"momentum", 0.4}, {"epsilon", 1e-12}},
                           Shape::spatial(5, 4, 4));
  EXPECT_EQ(b.params, (json{{"type", "batch_norm"}, {"name", "batch_norm"}, {"momentum", 0.4},
                            {"epsilon", 1e-12}, {"scale", false}, {"center", true}}));
  auto* bn = b.module.ptr()->as<torch::nn::BatchNorm2d>();
  ASSERT_NE(bn, nullptr);
  EXPECT_FALSE(bn->weight.requires_grad());
  EXPECT_TRUE(bn->bias.requires_grad());
  EXPECT_DOUBLE_EQ(bn->options.momentum().value(), 0.4);
  EXPECT_DOUBLE_EQ(bn->options.eps(), 1e-12);
  ParamCount pc = count_parameters(*b.module.ptr());
  EXPECT_EQ(pc.trainable, 5);           // β only
  EXPECT_EQ(pc.non_trainable, 3 * 5);   // γ (fixed at 1), running mean and variance
  // γ stays 1 through a backward pass and an optimizer step: it gets no gradient.
  auto x = torch::randn({3, 5, 4, 4});
  b.module.ptr()->train();
  forward(b, x).sum().backward();
  EXPECT_FALSE(bn->weight.grad().defined());
  EXPECT_TRUE(torch::equal(bn->weight, torch::ones({5})));

  BuiltLayer c = build_one({{"type", "batch_norm"}, {"center", false}}, Shape::flat(3));
  EXPECT_FALSE(c.module.ptr()->as<torch::nn::BatchNorm1d>()->bias.requires_grad());
}

TEST(BatchNormOptions, ObjectFormInsideConvAndDense) {
  BuiltLayer c = build_one({{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3},
                            {"batch_norm", {{"momentum", 0.4}, {"scale", false}}}},
                           Shape::spatial(3, 8, 8));
  EXPECT_EQ(c.params["batch_norm"], (json{{"momentum", 0.4}, {"epsilon", 1e-5}, {"scale", false}, {"center", true}}));
  EXPECT_EQ(c.params["bias"], false);  // batch norm on: no conv bias by default
  auto* bn = find_module<torch::nn::BatchNorm2dImpl>(c);
  ASSERT_NE(bn, nullptr);
  EXPECT_DOUBLE_EQ(bn->options.momentum().value(), 0.4);
  EXPECT_FALSE(bn->weight.requires_grad());
  // true resolves to the default options; false to false.
  BuiltLayer t = build_one({{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3}, {"batch_norm", true}},
                           Shape::spatial(3, 8, 8));
  EXPECT_EQ(t.params["batch_norm"], (json{{"momentum", 0.1}, {"epsilon", 1e-5}, {"scale", true}, {"center", true}}));
  BuiltLayer f = build_one({{"type", "dense"}, {"units", 2}, {"batch_norm", false}}, Shape::flat(3));
  EXPECT_EQ(f.params["batch_norm"], false);
  BuiltLayer d = build_one({{"type", "dense"}, {"units", 2}, {"batch_norm", {{"center", false}}}}, Shape::flat(3));
  EXPECT_FALSE(find_module<torch::nn::BatchNorm1dImpl>(d)->bias.requires_grad());

  std::string e = config_error_of([] {
    build_one({{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3}, {"batch_norm", {{"momentun", 0.1}}}},
              Shape::spatial(3, 8, 8));
  });
  EXPECT_NE(e.find("/layers/0/batch_norm: unknown key 'momentun' (did you mean 'momentum'?)"), std::string::npos) << e;
  e = config_error_of([] {
    build_one({{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3}, {"batch_norm", "yes"}}, Shape::spatial(3, 8, 8));
  });
  EXPECT_NE(e.find("/layers/0/batch_norm: must be true, false or an options object"), std::string::npos) << e;
}

TEST(Conv2dMaxpool, PoolsAfterTheConvolutionBeforeBatchNormAndActivation) {
  BuiltLayer c = build_one({{"type", "conv2d"}, {"filters", 6}, {"kernel_size", 3}, {"padding", "same"},
                            {"maxpool", 2}, {"batch_norm", true}, {"activation", "gelu"}},
                           Shape::spatial(3, 9, 8));
  EXPECT_EQ(child_names(c), (std::vector<std::string>{"conv", "pool", "bn", "act"}));
  EXPECT_EQ(c.output, Shape::spatial(6, 4, 4));  // floor(9/2) x floor(8/2)
  EXPECT_EQ(c.macs, 9 * 8 * 6 * 3 * 9);          // the convolution's work, at its own resolution
  c.module.ptr()->eval();
  EXPECT_EQ(forward(c, torch::randn({2, 3, 9, 8})).sizes().vec(), (std::vector<std::int64_t>{2, 6, 4, 4}));
  std::string e = config_error_of(
      [] { build_one({{"type", "conv2d"}, {"filters", 2}, {"kernel_size", 3}, {"maxpool", 4}}, Shape::spatial(1, 5, 5)); });
  EXPECT_NE(e.find("/layers/0/maxpool: conv2d 'conv2d' cannot take its input: maxpool 4×4 is larger than the "
                   "convolution's output 3×3"),
            std::string::npos)
      << e;
}

TEST(Conv2dTrainable, FreezesTheWeightOrEverything) {
  BuiltLayer b = build_one({{"type", "conv2d"}, {"filters", 2}, {"kernel_size", 3}, {"trainable", "bias"}},
                           Shape::spatial(1, 5, 5));
  auto* conv = find_module<torch::nn::Conv2dImpl>(b);
  EXPECT_FALSE(conv->weight.requires_grad());
  EXPECT_TRUE(conv->bias.requires_grad());
  EXPECT_EQ(count_parameters(*b.module.ptr()).trainable, 2);
  BuiltLayer n = build_one({{"type", "dense"}, {"units", 2}, {"trainable", false}}, Shape::flat(3));
  EXPECT_EQ(count_parameters(*n.module.ptr()).trainable, 0);
  EXPECT_EQ(count_parameters(*n.module.ptr()).non_trainable, 3 * 2 + 2);
  EXPECT_NE(config_error_of([] {
              build_one({{"type", "dense"}, {"units", 2}, {"trainable", "weight"}}, Shape::flat(3));
            }).find("/layers/0/trainable: must be true, false or \"bias\""),
            std::string::npos);
}

TEST(DiracInit, LeadingFiltersPassTheirChannelThrough) {
  torch::manual_seed(3);
  BuiltLayer c = build_one({{"type", "conv2d"}, {"filters", 5}, {"kernel_size", 3}, {"padding", "same"}, {"init", "dirac"}},
                           Shape::spatial(3, 6, 6));
  auto* conv = find_module<torch::nn::Conv2dImpl>(c);
  EXPECT_EQ(conv->bias.abs().max().item<double>(), 0.0);
  auto x = torch::randn({2, 3, 6, 6});
  auto y = forward(c, x);
  EXPECT_TRUE(torch::allclose(y.slice(1, 0, 3), x));                   // filters 0..2: identity
  EXPECT_GT(conv->weight.slice(0, 3, 5).abs().sum().item<double>(), 0);  // the others keep LibTorch's init
  BuiltLayer d = build_one({{"type", "dense"}, {"units", 2}, {"init", "dirac"}}, Shape::flat(4));
  auto v = torch::randn({3, 4});
  EXPECT_TRUE(torch::allclose(forward(d, v), v.slice(1, 0, 2)));
}

TEST(PatchWhitening, NeedsAPlainConvWithOneFilterPerComponentOrBothSigns) {
  // 2x2 patches of 3 channels: d = 12; filters 24 (both signs) and up to 12 are fine.
  for (int filters : {24, 12, 7}) {
    BuiltLayer b = build_one({{"type", "conv2d"}, {"filters", filters}, {"kernel_size", 2}, {"init", "patch_whitening"}},
                             Shape::spatial(3, 8, 8));
    EXPECT_EQ(b.params["whitening_eps"], 5e-4);
  }
  std::string e = config_error_of([] {
    build_one({{"type", "conv2d"}, {"filters", 16}, {"kernel_size", 2}, {"init", "patch_whitening"}}, Shape::spatial(3, 8, 8));
  });
  EXPECT_NE(e.find("/layers/0/filters: conv2d 'conv2d' cannot take its input: init \"patch_whitening\" makes one "
                   "filter per principal component of the 3×2×2 input patches: filters must be at most 12, or 24"),
            std::string::npos)
      << e;
  e = config_error_of([] {
    build_one({{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 2}, {"groups", 2}, {"init", "patch_whitening"}},
              Shape::spatial(4, 8, 8));
  });
  EXPECT_NE(e.find("needs groups 1 and dilation 1"), std::string::npos) << e;
  e = config_error_of([] {
    build_one({{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 2}, {"whitening_eps", 0.1}}, Shape::spatial(1, 8, 8));
  });
  EXPECT_NE(e.find("/layers/0/whitening_eps: only init \"patch_whitening\" takes whitening_eps"), std::string::npos) << e;
  // Not a model-wide scheme: it needs data, layer by layer.
  EXPECT_NE(cnnkit::test::doc_error(cnnkit::test::model_doc({{{"type", "flatten"}}}, 1, 2, 2, "patch_whitening"))
                .find("/init: must be one of"),
            std::string::npos);
}
