// The layer registry and every layer type: each registered type built from its example
// parameters (forward pass, real shape == inferred shape, save/load round trip), then the
// rules the issue spells out: "same" padding, explicit padding, dilation, groups, batch norm
// inside conv2d/dense, residual shortcuts and nested names, weight initialisation.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "cnnkit/layers/layer_registry.h"
#include "cnnkit/layers/residual_block.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using cnnkit::test::build_one;
using cnnkit::test::config_error_of;
using cnnkit::test::forward;

namespace {

json typed(const std::string& type, json params) {
  params["type"] = type;
  return params;
}

bool has_state(const torch::nn::Module& m) { return !m.parameters().empty() || !m.buffers().empty(); }

// The module registered under `name` anywhere inside `layer` (e.g. "conv", "pad", "bn").
std::shared_ptr<torch::nn::Module> child(const BuiltLayer& layer, const std::string& name) {
  for (const auto& item : layer.module.ptr()->named_modules()) {
    const std::string& key = item.key();
    const std::string suffix = "." + name;
    if (key == name || (key.size() > suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0))
      return item.value();
  }
  return nullptr;
}

torch::nn::Conv2dImpl& conv_of(const BuiltLayer& layer) {
  auto m = child(layer, "conv");
  if (!m || !m->as<torch::nn::Conv2d>()) throw std::runtime_error("no conv in " + layer.name);
  return *m->as<torch::nn::Conv2d>();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Every registered type, from its own example.

class EveryLayerType : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryLayerType, ForwardShapeEqualsInferredAndSaveLoadRoundTrips) {
  torch::manual_seed(0);
  const LayerType* t = LayerRegistry::instance().find(GetParam());
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->type(), GetParam());
  EXPECT_FALSE(t->doc().empty());
  const json layer = typed(t->type(), t->example());
  const Shape in = t->example_input();

  BuiltLayer a = build_one(layer, in);
  EXPECT_EQ(a.type, t->type());
  EXPECT_EQ(a.name, t->type());  // the first layer of a type gets the bare type name
  EXPECT_EQ(a.input, in);
  // Every example key is a documented key (resolution would reject it otherwise) and the
  // resolved parameters keep "type" and "name".
  EXPECT_EQ(a.params.at("type"), t->type());
  const json example = t->example();
  const auto keys = t->keys();
  for (auto it = example.begin(); it != example.end(); ++it) {
    EXPECT_NE(std::find(keys.begin(), keys.end(), it.key()), keys.end()) << it.key();
  }

  auto x = torch::randn(in.batched(2));
  a.module.ptr()->train();
  auto y = forward(a, x);  // training mode: batch norm updates its running statistics here
  EXPECT_EQ(y.sizes().vec(), a.output.batched(2)) << "inferred " << a.output.str();

  // Round trip: save `a`, load into a freshly built twin; both give identical outputs.
  BuiltLayer b = build_one(layer, in);
  a.module.ptr()->eval();
  b.module.ptr()->eval();
  auto ya = forward(a, x);
  if (has_state(*a.module.ptr())) {
    EXPECT_FALSE(torch::equal(ya, forward(b, x))) << "the twin should start different";
  }
  std::stringstream buffer;
  torch::save(a.module.ptr(), buffer);
  auto b_ptr = b.module.ptr();
  torch::load(b_ptr, buffer);
  EXPECT_TRUE(torch::equal(ya, forward(b, x)));
}

INSTANTIATE_TEST_SUITE_P(Registry, EveryLayerType, ::testing::ValuesIn(LayerRegistry::instance().types()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(LayerRegistry, HasEveryTypeTheIssueAsksFor) {
  auto types = LayerRegistry::instance().types();
  for (const char* t : {"conv2d", "maxpool2d", "avgpool2d", "global_avgpool2d", "dropout", "spatial_dropout", "flatten",
                        "dense", "batch_norm", "activation", "relu", "leaky_relu", "elu", "gelu", "silu", "sigmoid",
                        "tanh", "softmax", "log_softmax", "residual"}) {
    EXPECT_NE(std::find(types.begin(), types.end(), t), types.end()) << t;
  }
  EXPECT_TRUE(std::is_sorted(types.begin(), types.end()));
  EXPECT_EQ(LayerRegistry::instance().find("conv3d"), nullptr);
}

TEST(LayerRegistry, UnknownTypeListsKnownTypesAndSuggests) {
  std::string msg = config_error_of([] { build_one({{"type", "maxpool"}}, Shape::spatial(3, 8, 8)); });
  EXPECT_EQ(msg.rfind("test.json:/layers/0/type: unknown layer type 'maxpool' (did you mean 'maxpool2d'?); known types: ", 0), 0u)
      << msg;
  EXPECT_NE(msg.find("activation, avgpool2d, batch_norm, conv2d, dense, dropout"), std::string::npos) << msg;
}

// ---------------------------------------------------------------------------------------------
// Pooling.

TEST(Pool2d, SamePoolingOf7x7By2Gives4x4) {
  for (const char* type : {"maxpool2d", "avgpool2d"}) {
    BuiltLayer l = build_one({{"type", type}, {"pool_size", 2}, {"padding", "same"}}, Shape::spatial(5, 7, 7));
    EXPECT_EQ(l.output, Shape::spatial(5, 4, 4)) << type;
    EXPECT_EQ(forward(l, torch::randn({2, 5, 7, 7})).sizes().vec(), (std::vector<std::int64_t>{2, 5, 4, 4})) << type;
    EXPECT_EQ(l.params["strides"], 2) << "strides default to pool_size";
    BuiltLayer v = build_one({{"type", type}, {"pool_size", 2}}, Shape::spatial(5, 7, 7));
    EXPECT_EQ(v.output, Shape::spatial(5, 3, 3)) << type << " valid is the default";
  }
}

// Hand computation of Keras "same" average pooling: the mean of the real cells of each window,
// windows starting at i*stride - pad_top (padding only ever adds cells that are not counted).
torch::Tensor reference_avg_pool(const torch::Tensor& x, std::int64_t k, std::int64_t s, std::int64_t pad_top,
                                 std::int64_t out) {
  auto r = torch::zeros({out, out});
  auto h = x.size(0);
  for (std::int64_t i = 0; i < out; ++i)
    for (std::int64_t j = 0; j < out; ++j) {
      double sum = 0;
      int n = 0;
      for (std::int64_t a = i * s - pad_top; a < i * s - pad_top + k; ++a)
        for (std::int64_t b = j * s - pad_top; b < j * s - pad_top + k; ++b)
          if (a >= 0 && b >= 0 && a < h && b < h) {
            sum += x[a][b].item<double>();
            ++n;
          }
      r[i][j] = sum / n;
    }
  return r;
}

TEST(Pool2d, AvgSameAveragesOnlyRealCells) {
  auto x = torch::arange(49, torch::kFloat).reshape({1, 1, 7, 7});
  // 7×7 by 2: one extra row and column at the bottom/right (asymmetric: the masked path).
  BuiltLayer l = build_one({{"type", "avgpool2d"}, {"pool_size", 2}, {"padding", "same"}}, Shape::spatial(1, 7, 7));
  auto y = forward(l, x)[0][0];
  EXPECT_TRUE(torch::allclose(y, reference_avg_pool(x[0][0], 2, 2, 0, 4)));
  EXPECT_FLOAT_EQ(y[3][3].item<float>(), 48.0f);                 // the corner window holds one real cell
  EXPECT_FLOAT_EQ(y[0][3].item<float>(), (6.0f + 13.0f) / 2.0f);  // right column: two real cells
  EXPECT_FLOAT_EQ(y[0][0].item<float>(), (0 + 1 + 7 + 8) / 4.0f);

  // 5×5, pool 3, stride 1: one cell on each side (symmetric: LibTorch's own padding).
  auto x5 = torch::arange(25, torch::kFloat).reshape({1, 1, 5, 5});
  BuiltLayer s = build_one({{"type", "avgpool2d"}, {"pool_size", 3}, {"strides", 1}, {"padding", "same"}},
                           Shape::spatial(1, 5, 5));
  EXPECT_EQ(s.output, Shape::spatial(1, 5, 5));
  EXPECT_TRUE(torch::allclose(forward(s, x5)[0][0], reference_avg_pool(x5[0][0], 3, 1, 1, 5)));

  // 5×5, pool 4, stride 1: one cell at the top/left, two at the bottom/right.
  BuiltLayer e = build_one({{"type", "avgpool2d"}, {"pool_size", 4}, {"strides", 1}, {"padding", "same"}},
                           Shape::spatial(1, 5, 5));
  EXPECT_EQ(e.output, Shape::spatial(1, 5, 5));
  EXPECT_TRUE(torch::allclose(forward(e, x5)[0][0], reference_avg_pool(x5[0][0], 4, 1, 1, 5)));
}

TEST(Pool2d, MaxSamePaddingNeverWins) {
  auto x = -(torch::arange(49, torch::kFloat) + 1).reshape({1, 1, 7, 7});  // all negative
  BuiltLayer l = build_one({{"type", "maxpool2d"}, {"pool_size", 2}, {"padding", "same"}}, Shape::spatial(1, 7, 7));
  auto y = forward(l, x)[0][0];
  EXPECT_FLOAT_EQ(y[3][3].item<float>(), -49.0f);  // not 0 from zero padding
  EXPECT_FLOAT_EQ(y[0][3].item<float>(), -7.0f);
  EXPECT_FLOAT_EQ(y[0][0].item<float>(), -1.0f);
  EXPECT_FLOAT_EQ(y.max().item<float>(), -1.0f);
}

TEST(Pool2d, RejectsExplicitPaddingAndOversizedWindows) {
  EXPECT_EQ(config_error_of([] { build_one({{"type", "maxpool2d"}, {"padding", 1}}, Shape::spatial(1, 7, 7)); }),
            "test.json:/layers/0/padding: pooling padding must be \"same\" or \"valid\"");
  std::string msg = config_error_of([] { build_one({{"type", "avgpool2d"}, {"pool_size", 8}}, Shape::spatial(2, 7, 7)); });
  EXPECT_EQ(msg, "test.json:/layers/0/pool_size: avgpool2d 'avgpool2d' cannot take its input: pool_size 8×8 is larger "
                 "than the input 7×7×2 (try padding \"same\")");
}

// ---------------------------------------------------------------------------------------------
// conv2d.

// Reference: zero padding placed explicitly (left, right, top, bottom), then a plain convolution.
torch::Tensor reference_conv(const BuiltLayer& l, const torch::Tensor& x, std::vector<std::int64_t> pad,
                             std::vector<std::int64_t> stride, std::vector<std::int64_t> dilation = {1, 1},
                             std::int64_t groups = 1) {
  namespace F = torch::nn::functional;
  auto& conv = conv_of(l);
  return F::conv2d(F::pad(x, F::PadFuncOptions(pad)), conv.weight,
                   F::Conv2dFuncOptions().bias(conv.bias).stride(stride).dilation(dilation).groups(groups));
}

TEST(Conv2d, SameWithStride2AndEvenKernelsPadsBottomRightLikeKeras) {
  torch::NoGradGuard no_grad;
  auto x = torch::randn({2, 3, 7, 7});
  // k=4, s=2 on 7: out 4, total padding (4-1)*2 + 4 - 7 = 3 -> 1 top/left, 2 bottom/right.
  BuiltLayer l = build_one({{"type", "conv2d"}, {"filters", 5}, {"kernel_size", 4}, {"strides", 2}, {"padding", "same"}},
                           Shape::spatial(3, 7, 7));
  EXPECT_EQ(l.output, Shape::spatial(5, 4, 4));
  ASSERT_NE(child(l, "pad"), nullptr) << "asymmetric padding needs an explicit pad module";
  EXPECT_TRUE(torch::allclose(forward(l, x), reference_conv(l, x, {1, 2, 1, 2}, {2, 2}), 1e-5, 1e-5));

  // k=2, s=1 on 7: total 1 -> all of it at the bottom/right.
  BuiltLayer k2 = build_one({{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 2}, {"padding", "same"}},
                            Shape::spatial(3, 7, 7));
  EXPECT_EQ(k2.output, Shape::spatial(4, 7, 7));
  EXPECT_TRUE(torch::allclose(forward(k2, x), reference_conv(k2, x, {0, 1, 0, 1}, {1, 1}), 1e-5, 1e-5));

  // k=2, s=2 on 8: no padding needed at all.
  BuiltLayer k22 = build_one({{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 2}, {"strides", 2}, {"padding", "same"}},
                             Shape::spatial(3, 8, 8));
  EXPECT_EQ(k22.output, Shape::spatial(4, 4, 4));
  EXPECT_EQ(child(k22, "pad"), nullptr);
  EXPECT_EQ(k22.macs, 4 * 4 * 4 * 3 * 2 * 2);

  // k=[3, 4] s=[1, 2] on 7×9: heights 7 (pad 1/1), widths 5 (pad total (5-1)*2 + 4 - 9 = 3 -> 1/2).
  BuiltLayer mixed = build_one({{"type", "conv2d"}, {"filters", 2}, {"kernel_size", {3, 4}}, {"strides", {1, 2}}, {"padding", "same"}},
                               Shape::spatial(3, 7, 9));
  EXPECT_EQ(mixed.output, Shape::spatial(2, 7, 5));
  EXPECT_EQ(mixed.params["kernel_size"], json::array({3, 4}));
  auto xm = torch::randn({2, 3, 7, 9});
  EXPECT_TRUE(torch::allclose(forward(mixed, xm), reference_conv(mixed, xm, {1, 2, 1, 1}, {1, 2}), 1e-5, 1e-5));
}

TEST(Conv2d, ExplicitPaddingDilationAndGroups) {
  torch::NoGradGuard no_grad;
  auto x = torch::randn({2, 4, 12, 12});
  // Explicit [h, w] padding is applied on both sides.
  BuiltLayer p = build_one({{"type", "conv2d"}, {"filters", 3}, {"kernel_size", 3}, {"padding", {1, 2}}}, Shape::spatial(4, 12, 12));
  EXPECT_EQ(p.output, Shape::spatial(3, 12, 14));
  EXPECT_EQ(p.params["padding"], json::array({1, 2}));
  EXPECT_EQ(forward(p, x).sizes().vec(), (std::vector<std::int64_t>{2, 3, 12, 14}));
  EXPECT_TRUE(torch::allclose(forward(p, x), reference_conv(p, x, {2, 2, 1, 1}, {1, 1}), 1e-5, 1e-5));
  BuiltLayer p0 = build_one({{"type", "conv2d"}, {"filters", 3}, {"kernel_size", 3}, {"padding", 0}}, Shape::spatial(4, 12, 12));
  EXPECT_EQ(p0.output, Shape::spatial(3, 10, 10));

  // Dilation 2 spreads a 3×3 kernel over 5×5: valid 12 -> 8, same keeps 12 (pad 2 each side).
  BuiltLayer d = build_one({{"type", "conv2d"}, {"filters", 3}, {"kernel_size", 3}, {"dilation", 2}}, Shape::spatial(4, 12, 12));
  EXPECT_EQ(d.output, Shape::spatial(3, 8, 8));
  EXPECT_TRUE(torch::allclose(forward(d, x), reference_conv(d, x, {0, 0, 0, 0}, {1, 1}, {2, 2}), 1e-5, 1e-5));
  BuiltLayer ds = build_one({{"type", "conv2d"}, {"filters", 3}, {"kernel_size", 3}, {"dilation", 2}, {"padding", "same"}},
                            Shape::spatial(4, 12, 12));
  EXPECT_EQ(ds.output, Shape::spatial(3, 12, 12));
  EXPECT_TRUE(torch::allclose(forward(ds, x), reference_conv(ds, x, {2, 2, 2, 2}, {1, 1}, {2, 2}), 1e-5, 1e-5));

  // Groups: each of 2 groups sees 2 of the 4 input channels -> 8*2*3*3 weights + 8 biases.
  BuiltLayer g = build_one({{"type", "conv2d"}, {"filters", 8}, {"kernel_size", 3}, {"groups", 2}}, Shape::spatial(4, 12, 12));
  EXPECT_EQ(count_parameters(*g.module.ptr()).total(), 8 * 2 * 9 + 8);
  EXPECT_EQ(g.macs, 10 * 10 * 8 * 2 * 9);
  EXPECT_TRUE(torch::allclose(forward(g, x), reference_conv(g, x, {0, 0, 0, 0}, {1, 1}, {1, 1}, 2), 1e-5, 1e-5));
  EXPECT_EQ(config_error_of([] {
              build_one({{"type", "conv2d"}, {"filters", 6}, {"kernel_size", 3}, {"groups", 3}}, Shape::spatial(4, 12, 12));
            }),
            "test.json:/layers/0: conv2d 'conv2d' cannot take its input: groups=3 must divide both input channels "
            "(4, input 12×12×4) and filters (6)");
}

TEST(Conv2d, KernelLargerThanPaddedInputNamesKernelSize) {
  EXPECT_EQ(config_error_of([] {
              build_one({{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 7}}, Shape::spatial(3, 5, 5));
            }),
            "test.json:/layers/0/kernel_size: conv2d 'conv2d' cannot take its input: kernel 7×7 is larger than the "
            "padded input 5×5 (input 5×5×3)");
  // Explicit padding counts: 5 + 2*1 = 7 fits a 7×7 kernel.
  EXPECT_EQ(build_one({{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 7}, {"padding", 1}}, Shape::spatial(3, 5, 5)).output,
            Shape::spatial(4, 1, 1));
  EXPECT_EQ(config_error_of([] {
              build_one({{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3}, {"dilation", 3}}, Shape::spatial(3, 6, 6));
            }),
            "test.json:/layers/0/kernel_size: conv2d 'conv2d' cannot take its input: kernel 3×3 (dilated to 7×7) is "
            "larger than the padded input 6×6 (input 6×6×3)");
}

TEST(Conv2d, BatchNormInsideConvAndDense) {
  // conv2d + batch_norm: the bias is dropped by default (the norm's beta replaces it).
  BuiltLayer c = build_one({{"type", "conv2d"}, {"filters", 8}, {"kernel_size", 3}, {"batch_norm", true}, {"activation", "relu"}},
                           Shape::spatial(3, 12, 12));
  EXPECT_EQ(c.params["bias"], false);
  ASSERT_NE(child(c, "bn"), nullptr);
  EXPECT_NE(child(c, "bn")->as<torch::nn::BatchNorm2d>(), nullptr);
  ParamCount pc = count_parameters(*c.module.ptr());
  EXPECT_EQ(pc.trainable, 8 * 3 * 9 + 2 * 8);  // weights, gamma, beta
  EXPECT_EQ(pc.non_trainable, 2 * 8);          // running mean and variance
  EXPECT_EQ(conv_of(c).bias.defined(), false);
  // The order inside the one config layer is conv -> bn -> act.
  std::vector<std::string> names;
  for (const auto& item : c.module.ptr()->named_children()) names.push_back(item.key());
  EXPECT_EQ(names, (std::vector<std::string>{"conv", "bn", "act"}));

  BuiltLayer cb = build_one({{"type", "conv2d"}, {"filters", 8}, {"kernel_size", 3}, {"batch_norm", true}, {"bias", true}},
                            Shape::spatial(3, 12, 12));
  EXPECT_EQ(count_parameters(*cb.module.ptr()).trainable, 8 * 3 * 9 + 8 + 2 * 8);

  BuiltLayer d = build_one({{"type", "dense"}, {"units", 10}, {"batch_norm", true}}, Shape::flat(20));
  ASSERT_NE(child(d, "bn"), nullptr);
  EXPECT_NE(child(d, "bn")->as<torch::nn::BatchNorm1d>(), nullptr);
  EXPECT_EQ(count_parameters(*d.module.ptr()).trainable, 20 * 10 + 2 * 10);
  EXPECT_EQ(count_parameters(*d.module.ptr()).non_trainable, 2 * 10);

  // Standalone batch_norm after conv (2d) and after dense (1d).
  BuiltLayer b2 = build_one({{"type", "batch_norm"}}, Shape::spatial(6, 4, 4));
  EXPECT_NE(b2.module.ptr()->as<torch::nn::BatchNorm2d>(), nullptr);
  BuiltLayer b1 = build_one({{"type", "batch_norm"}, {"momentum", 0.01}, {"epsilon", 0.001}}, Shape::flat(7));
  ASSERT_NE(b1.module.ptr()->as<torch::nn::BatchNorm1d>(), nullptr);
  EXPECT_DOUBLE_EQ(b1.module.ptr()->as<torch::nn::BatchNorm1d>()->options.momentum().value(), 0.01);
  EXPECT_DOUBLE_EQ(b1.module.ptr()->as<torch::nn::BatchNorm1d>()->options.eps(), 0.001);
  EXPECT_EQ(count_parameters(*b1.module.ptr()).total(), 4 * 7);
}

TEST(Activation, StandaloneFunctionsAndAlpha) {
  auto x = torch::tensor({-2.0f, 0.0f, 3.0f}).reshape({1, 3});
  BuiltLayer lr = build_one({{"type", "leaky_relu"}, {"alpha", 0.2}}, Shape::flat(3));
  EXPECT_TRUE(torch::allclose(forward(lr, x), torch::tensor({-0.4f, 0.0f, 3.0f}).reshape({1, 3})));
  BuiltLayer lr0 = build_one({{"type", "leaky_relu"}}, Shape::flat(3));
  EXPECT_DOUBLE_EQ(lr0.params["alpha"].get<double>(), 0.01);
  BuiltLayer generic = build_one({{"type", "activation"}, {"function", "relu"}}, Shape::flat(3));
  EXPECT_TRUE(torch::equal(forward(generic, x), torch::relu(x)));
  BuiltLayer sm = build_one({{"type", "softmax"}}, Shape::spatial(4, 2, 2));
  auto y = forward(sm, torch::randn({2, 4, 2, 2}));
  EXPECT_TRUE(torch::allclose(y.sum(1), torch::ones({2, 2, 2})));  // over channels
  EXPECT_EQ(config_error_of([] { build_one({{"type", "relu"}, {"alpha", 0.1}}, Shape::flat(3)); }),
            "test.json:/layers/0/alpha: unknown key 'alpha'; valid keys: type, name");
  EXPECT_EQ(config_error_of([] { build_one({{"type", "conv2d"}, {"filters", 1}, {"kernel_size", 1}, {"alpha", 0.1}}, Shape::flat(3)); }),
            "test.json:/layers/0/alpha: only leaky_relu and elu take alpha; activation is linear");
  std::string msg = config_error_of([] { build_one({{"type", "activation"}, {"function", "rleu"}}, Shape::flat(3)); });
  EXPECT_EQ(msg, "test.json:/layers/0/function: must be one of linear, relu, leaky_relu, elu, gelu, silu, sigmoid, tanh, "
                 "softmax, log_softmax; got \"rleu\" (did you mean 'relu'?)");
}

TEST(Dropout, RatesAndSpatialNeedsSpatialInput) {
  BuiltLayer d = build_one({{"type", "dropout"}, {"rate", 0.0}}, Shape::flat(5));
  EXPECT_EQ(d.output, Shape::flat(5));
  EXPECT_EQ(config_error_of([] { build_one({{"type", "dropout"}, {"rate", 1}}, Shape::flat(5)); }),
            "test.json:/layers/0/rate: must be in [0.0, 1.0); got 1");
  EXPECT_EQ(config_error_of([] { build_one({{"type", "spatial_dropout"}, {"rate", -0.5}}, Shape::flat(5)); }),
            "test.json:/layers/0/rate: must be in [0.0, 1.0); got -0.5");
  EXPECT_EQ(config_error_of([] { build_one({{"type", "dropout"}}, Shape::flat(5)); }),
            "test.json:/layers/0: missing required field 'rate'");
  // spatial_dropout drops whole channels in training.
  torch::manual_seed(3);
  BuiltLayer s = build_one({{"type", "spatial_dropout"}, {"rate", 0.5}}, Shape::spatial(64, 3, 3));
  auto y = forward(s, torch::ones({1, 64, 3, 3}));
  auto per_channel = y.amax({2, 3}) - y.amin({2, 3});
  EXPECT_EQ(per_channel.abs().max().item<float>(), 0.0f);  // each channel all-0 or all-2
  EXPECT_GT((y.amax({2, 3}) == 0).sum().item<int64_t>(), 0);
  EXPECT_EQ(config_error_of([] { build_one({{"type", "spatial_dropout"}, {"rate", 0.5}}, Shape::flat(5)); }),
            "test.json:/layers/0: spatial_dropout 'spatial_dropout' cannot take its input: needs a spatial input H×W×C, "
            "got 5 (flat); put it before flatten/dense/global pooling");
}

TEST(Flatten, AndGlobalAveragePooling) {
  BuiltLayer f = build_one({{"type", "flatten"}}, Shape::spatial(3, 4, 5));
  EXPECT_EQ(f.output, Shape::flat(60));
  BuiltLayer g = build_one({{"type", "global_avgpool2d"}}, Shape::spatial(3, 4, 5));
  EXPECT_EQ(g.output, Shape::flat(3));
  auto x = torch::randn({2, 3, 4, 5});
  EXPECT_TRUE(torch::allclose(forward(g, x), x.mean({2, 3})));
}

// ---------------------------------------------------------------------------------------------
// residual.

json conv(int filters, int strides = 1, json extra = json::object()) {
  json c = {{"type", "conv2d"}, {"filters", filters}, {"kernel_size", 3}, {"strides", strides}, {"padding", "same"}};
  for (auto it = extra.begin(); it != extra.end(); ++it) c[it.key()] = it.value();
  return c;
}

TEST(Residual, IdentityShortcutWhenShapesMatch) {
  torch::NoGradGuard no_grad;
  BuiltLayer r = build_one({{"type", "residual"}, {"layers", {conv(6), conv(6)}}, {"activation", "linear"}},
                           Shape::spatial(6, 8, 8));
  EXPECT_EQ(r.output, Shape::spatial(6, 8, 8));
  auto* block = r.module.ptr()->as<ResidualBlock>();
  ASSERT_NE(block, nullptr);
  EXPECT_TRUE(block->identity_shortcut());
  EXPECT_EQ(count_parameters(*r.module.ptr()).total(), 2 * (6 * 6 * 9 + 6));
  EXPECT_EQ(r.macs, 2 * 8 * 8 * 6 * 6 * 9);
  auto x = torch::randn({2, 6, 8, 8});
  EXPECT_TRUE(torch::allclose(forward(r, x), block->body()->forward(x) + x));
  // The default activation after the addition is relu.
  BuiltLayer rr = build_one({{"type", "residual"}, {"layers", {conv(6)}}}, Shape::spatial(6, 8, 8));
  EXPECT_EQ(rr.params["activation"], "relu");
  auto* b2 = rr.module.ptr()->as<ResidualBlock>();
  EXPECT_TRUE(torch::allclose(forward(rr, x), torch::relu(b2->body()->forward(x) + x)));
}

TEST(Residual, ProjectionShortcutWhenShapesDiffer) {
  json body = {conv(6, 2, {{"batch_norm", true}, {"activation", "relu"}}), conv(6, 1, {{"batch_norm", true}})};
  BuiltLayer r = build_one({{"type", "residual"}, {"layers", body}}, Shape::spatial(3, 12, 12));
  EXPECT_EQ(r.output, Shape::spatial(6, 6, 6));
  auto* block = r.module.ptr()->as<ResidualBlock>();
  ASSERT_NE(block, nullptr);
  EXPECT_FALSE(block->identity_shortcut());
  const std::int64_t body_params = (3 * 6 * 9 + 4 * 6) + (6 * 6 * 9 + 4 * 6);
  const std::int64_t projection = 3 * 6 + 4 * 6;  // 1×1 conv without bias + batch norm
  EXPECT_EQ(count_parameters(*r.module.ptr()).total(), body_params + projection);
  EXPECT_EQ(r.macs, 6 * 6 * 6 * 3 * 9 + 6 * 6 * 6 * 6 * 9 + 6 * 6 * 6 * 3);
  EXPECT_EQ(forward(r, torch::randn({2, 3, 12, 12})).sizes().vec(), (std::vector<std::int64_t>{2, 6, 6, 6}));

  BuiltLayer no_bn = build_one({{"type", "residual"}, {"layers", body}, {"shortcut_batch_norm", false}}, Shape::spatial(3, 12, 12));
  EXPECT_EQ(count_parameters(*no_bn.module.ptr()).total(), body_params + 3 * 6);
  // A projection can be forced even when the shapes match.
  BuiltLayer forced = build_one({{"type", "residual"}, {"layers", {conv(3)}}, {"shortcut", "projection"}}, Shape::spatial(3, 8, 8));
  EXPECT_FALSE(forced.module.ptr()->as<ResidualBlock>()->identity_shortcut());
  EXPECT_EQ(count_parameters(*forced.module.ptr()).total(), (3 * 3 * 9 + 3) + 3 * 3 + 4 * 3);
}

TEST(Residual, BodyErrors) {
  EXPECT_EQ(config_error_of([] {
              build_one({{"type", "residual"}, {"layers", {conv(6), {{"type", "flatten"}}}}}, Shape::spatial(3, 8, 8));
            }),
            "test.json:/layers/0: residual 'residual' cannot take its input: its body must end with a spatial output "
            "to add to the shortcut; got 384 (flat)");
  EXPECT_EQ(config_error_of([] {
              build_one({{"type", "residual"}, {"layers", {{{"type", "conv2d"}, {"filters", 6}, {"kernel_size", 3}}}}},
                        Shape::spatial(3, 7, 7));
            }),
            "test.json:/layers/0: residual 'residual' cannot take its input: no 1×1 strided projection maps the input "
            "7×7×3 onto the body's output 5×5×6");
  EXPECT_EQ(config_error_of([] { build_one({{"type", "residual"}, {"layers", json::array()}}, Shape::spatial(3, 7, 7)); }),
            "test.json:/layers/0/layers: the layer list is empty; a model needs at least one layer");
  // Errors inside the body name the nested pointer.
  EXPECT_EQ(config_error_of([] { build_one({{"type", "residual"}, {"layers", {conv(0)}}}, Shape::spatial(3, 7, 7)); }),
            "test.json:/layers/0/layers/0/filters: must be between 1 and 65536; got 0");
}

TEST(Residual, NestedNamesAndAddresses) {
  json layers = {conv(4),
                 {{"type", "maxpool2d"}},
                 conv(8),
                 {{"type", "residual"}, {"layers", {conv(8), conv(8, 1, {{"name", "inner"}})}}},
                 {{"type", "flatten"}},
                 {{"type", "dense"}, {"units", 10}}};
  Model m = build_model(cnnkit::test::resolve_doc(cnnkit::test::model_doc(layers)));
  std::vector<std::string> all;
  for (const auto& ref : m.all_layers()) all.push_back(ref.path + "=" + ref.layer->name);
  EXPECT_EQ(all, (std::vector<std::string>{"0=conv2d", "1=maxpool2d", "2=conv2d_1", "3=residual", "3.0=conv2d_2",
                                           "3.1=inner", "4=flatten", "5=dense"}));
  EXPECT_EQ(m.find_layer("3.1").layer->name, "inner");
  EXPECT_EQ(m.find_layer("3.1").layer->output, Shape::spatial(8, 6, 6));
  EXPECT_EQ(m.find_layer("inner").path, "3.1");
  EXPECT_EQ(m.find_layer("3").layer->type, "residual");
  EXPECT_EQ(m.find_layer("conv2d_2").path, "3.0");
  // The top-level Sequential has one child per config layer; the residual's body holds the nested ones.
  EXPECT_EQ(m.net->size(), 6u);
  auto* block = m.net[3]->as<ResidualBlock>();
  ASSERT_NE(block, nullptr);
  std::vector<std::string> body;
  for (const auto& item : block->body()->named_children()) body.push_back(item.key());
  EXPECT_EQ(body, (std::vector<std::string>{"conv2d_2", "inner"}));

  try {
    m.find_layer("7");
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()),
              "--layer 7: layer index 7 out of range; valid: 0..5 or a name (0=conv2d, 1=maxpool2d, 2=conv2d_1, "
              "3=residual, 3.0=conv2d_2, 3.1=inner, 4=flatten, 5=dense)");
  }
  try {
    m.find_layer("iner");
    FAIL() << "expected UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown layer 'iner' (did you mean 'inner'?)"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------------------------------------
// Weight initialisation.

struct WeightStats {
  double std, max_abs;
  bool bias_zero;
};
WeightStats stats(const torch::Tensor& w, const torch::Tensor& b) {
  return {w.std().item<double>(), w.abs().max().item<double>(), !b.defined() || b.abs().max().item<double>() == 0.0};
}

TEST(Init, HeXavierAndDefault) {
  torch::manual_seed(1);
  const Shape in = Shape::spatial(32, 8, 8);
  const json layer = {{"type", "conv2d"}, {"filters", 64}, {"kernel_size", 3}};
  const double fan_in = 32 * 9, fan_out = 64 * 9;

  BuiltLayer he = build_one(layer, in, "he");
  WeightStats s = stats(conv_of(he).weight, conv_of(he).bias);
  EXPECT_NEAR(s.std, std::sqrt(2.0 / fan_in), 0.03 * std::sqrt(2.0 / fan_in));
  EXPECT_TRUE(s.bias_zero);

  BuiltLayer xavier = build_one(layer, in, "xavier");
  s = stats(conv_of(xavier).weight, conv_of(xavier).bias);
  const double xb = std::sqrt(6.0 / (fan_in + fan_out));
  EXPECT_LE(s.max_abs, xb);
  EXPECT_GT(s.max_abs, 0.98 * xb);
  EXPECT_NEAR(s.std, xb / std::sqrt(3.0), 0.03 * xb);
  EXPECT_TRUE(s.bias_zero);

  // LibTorch's default: kaiming_uniform with a = sqrt(5), i.e. bound 1/sqrt(fan_in); biases not zero.
  BuiltLayer def = build_one(layer, in, "default");
  s = stats(conv_of(def).weight, conv_of(def).bias);
  EXPECT_LE(s.max_abs, 1.0 / std::sqrt(fan_in) + 1e-7);
  EXPECT_GT(s.max_abs, 0.98 / std::sqrt(fan_in));
  EXPECT_FALSE(s.bias_zero);

  // Dense: fan_in = input features.
  BuiltLayer dense = build_one({{"type", "dense"}, {"units", 100}}, Shape::flat(500), "he");
  auto lin = child(dense, "linear");
  ASSERT_NE(lin, nullptr);
  EXPECT_NEAR(lin->as<torch::nn::Linear>()->weight.std().item<double>(), std::sqrt(2.0 / 500), 0.03 * std::sqrt(2.0 / 500));
}

TEST(Init, GlobalSchemeAndPerLayerOverride) {
  torch::manual_seed(2);
  json layers = {{{"type", "conv2d"}, {"filters", 64}, {"kernel_size", 3}},                     // inherits he
                 {{"type", "conv2d"}, {"filters", 64}, {"kernel_size", 3}, {"init", "default"}},  // LibTorch's own
                 {{"type", "conv2d"}, {"filters", 64}, {"kernel_size", 3}, {"init", "xavier"}},
                 {{"type", "residual"}, {"init", "xavier"}, {"layers", {{{"type", "conv2d"}, {"filters", 64}, {"kernel_size", 3}, {"padding", "same"}}}}}};
  Config c = cnnkit::test::resolve_doc(cnnkit::test::model_doc(layers, 32, 12, 12, "he"));
  EXPECT_EQ(c.resolved()["init"], "he");
  EXPECT_EQ(c.resolved()["layers"][0]["init"], "inherit");
  Model m = build_model(c);
  const double fan = 64 * 9;
  auto w = [&](const std::string& address) { return conv_of(*m.find_layer(address).layer).weight; };
  auto b = [&](const std::string& address) { return conv_of(*m.find_layer(address).layer).bias; };
  EXPECT_NEAR(w("0").std().item<double>(), std::sqrt(2.0 / (32 * 9)), 0.03 * std::sqrt(2.0 / (32 * 9)));
  EXPECT_EQ(b("0").abs().max().item<double>(), 0.0);
  EXPECT_GT(b("1").abs().max().item<double>(), 0.0);
  EXPECT_LE(w("1").abs().max().item<double>(), 1.0 / std::sqrt(fan) + 1e-7);
  EXPECT_LE(w("2").abs().max().item<double>(), std::sqrt(6.0 / (fan + fan)) + 1e-7);
  EXPECT_GT(w("2").abs().max().item<double>(), 0.98 * std::sqrt(6.0 / (fan + fan)));
  // A residual's init applies to its body.
  EXPECT_LE(w("3.0").abs().max().item<double>(), std::sqrt(6.0 / (fan + fan)) + 1e-7);
  EXPECT_GT(w("3.0").abs().max().item<double>(), 0.98 * std::sqrt(6.0 / (fan + fan)));

  EXPECT_EQ(cnnkit::test::doc_error(cnnkit::test::model_doc(layers, 32, 12, 12, "kaiming")),
            "test.json:/init: must be one of default, he, he_uniform, xavier, xavier_normal, dirac; got \"kaiming\"");
}
