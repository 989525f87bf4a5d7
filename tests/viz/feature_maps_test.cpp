// Feature-map capture and rendering, and filter images, on small in-memory models.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cnnkit/config/config.h"
#include "cnnkit/core/error.h"
#include "cnnkit/io/image_io.h"
#include "cnnkit/model/model.h"
#include "cnnkit/viz/feature_maps.h"
#include "cnnkit/viz/filters.h"

using namespace cnnkit;

namespace {

// conv(4) -> residual[conv(4), conv(4)] -> maxpool -> flatten -> dense(3)
Config residual_config(int channels = 1) {
  json conv = {{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3}, {"padding", "same"}, {"activation", "relu"}};
  json raw = {{"input", {{"channels", channels}, {"height", 8}, {"width", 8}}},
              {"layers", json::array({conv,
                                      {{"type", "residual"}, {"layers", json::array({conv, conv})}},
                                      {{"type", "maxpool2d"}, {"pool_size", 2}},
                                      {{"type", "flatten"}},
                                      {{"type", "dense"}, {"units", 3}}})}};
  auto src = std::make_shared<ConfigSource>();
  src->file = "residual.json";
  return resolve_config(raw, src);
}

std::vector<std::string> paths(const std::vector<LayerRef>& refs) {
  std::vector<std::string> out;
  for (const auto& r : refs) out.push_back(r.path);
  return out;
}

}  // namespace

TEST(FeatureMapLayers, SelectsIndicesNamesListsAndAll) {
  Model m = build_model(residual_config());
  EXPECT_EQ(paths(select_layers(m, {"0"})), (std::vector<std::string>{"0"}));
  EXPECT_EQ(paths(select_layers(m, {"1.1", "flatten", "0,4", "0"})),
            (std::vector<std::string>{"1.1", "3", "0", "4"}));
  EXPECT_EQ(paths(select_layers(m, {"all"})), (std::vector<std::string>{"0", "1", "1.0", "1.1", "2", "3", "4"}));
}

TEST(FeatureMapLayers, OutOfRangeAndUnknownNamesAreUsageErrorsListingTheValidOnes) {
  Model m = build_model(residual_config());
  try {
    select_layers(m, {"9"});
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("out of range"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("0..4"), std::string::npos) << e.what();
  }
  EXPECT_THROW(select_layers(m, {"conv2d_99"}), UsageError);
  EXPECT_THROW(select_layers(m, {"0,,1"}), UsageError);
}

TEST(FeatureMapCapture, MatchesRunningTheLayersByHandIncludingResidualBodies) {
  torch::manual_seed(1);
  Model m = build_model(residual_config());
  m.net->eval();
  auto x = torch::randn({2, 1, 8, 8});
  auto got = capture_layer_outputs(m, x, {"0", "1.0", "1.1", "1", "4"});
  ASSERT_EQ(got.size(), 5u);
  torch::NoGradGuard ng;
  auto y0 = m.layers[0].module.forward(x);
  auto b0 = m.layers[1].children[0].module.forward(y0);
  auto b1 = m.layers[1].children[1].module.forward(b0);
  auto y1 = m.layers[1].module.forward(y0);
  EXPECT_TRUE(torch::equal(got["0"], y0));
  EXPECT_TRUE(torch::equal(got["1.0"], b0));
  EXPECT_TRUE(torch::equal(got["1.1"], b1));
  EXPECT_TRUE(torch::equal(got["1"], y1));
  EXPECT_TRUE(torch::allclose(got["4"], m.net->forward(x)));
  EXPECT_EQ(got["4"].sizes(), (std::vector<std::int64_t>{2, 3}));
}

TEST(FeatureMapRender, NormalisesPerChannelOrPerLayer) {
  // Two channels with different ranges.
  auto maps = torch::stack({torch::tensor({0.f, 1.f, 2.f, 4.f}).view({2, 2}),
                            torch::tensor({10.f, 10.f, 20.f, 30.f}).view({2, 2})})
                  .unsqueeze(0);  // [1, 2, 2, 2]
  auto ch = maps_to_uint8(maps, MapNormalize::kChannel);
  EXPECT_EQ(ch[0][0][0][0].item<int>(), 0);
  EXPECT_EQ(ch[0][0][1][1].item<int>(), 255);
  EXPECT_EQ(ch[0][0][0][1].item<int>(), 64);  // 1/4 * 255 = 63.75
  EXPECT_EQ(ch[0][1][0][0].item<int>(), 0);
  EXPECT_EQ(ch[0][1][1][1].item<int>(), 255);
  auto layer = maps_to_uint8(maps, MapNormalize::kLayer);
  EXPECT_EQ(layer[0][0][1][1].item<int>(), 34);  // 4/30 * 255 = 34
  EXPECT_EQ(layer[0][1][1][1].item<int>(), 255);
  // A constant channel maps to 0, not NaN.
  auto flat = maps_to_uint8(torch::full({1, 1, 2, 2}, 3.f), MapNormalize::kChannel);
  EXPECT_EQ(flat.sum().item<int>(), 0);
  // Shared range across two models per channel: model 2 holds the maximum.
  auto two = torch::stack({torch::tensor({0.f, 1.f}).view({1, 1, 2}), torch::tensor({0.f, 2.f}).view({1, 1, 2})});
  auto u = maps_to_uint8(two, MapNormalize::kChannel);
  EXPECT_EQ(u[0][0][0][1].item<int>(), 128);
  EXPECT_EQ(u[1][0][0][1].item<int>(), 255);
}

TEST(FeatureMapRender, ColourMapsStripsUpscalingAndStats) {
  auto u8 = torch::tensor({0, 255}, torch::kUInt8).view({1, 1, 2});
  auto gray = colorize(u8, "gray");
  EXPECT_EQ(gray.sizes(), (std::vector<std::int64_t>{1, 1, 1, 2}));
  auto vir = colorize(u8, "viridis");
  EXPECT_EQ(vir.sizes(), (std::vector<std::int64_t>{1, 3, 1, 2}));
  // viridis runs from dark purple (68, 1, 84) to yellow (253, 231, 37), give or take a step.
  EXPECT_NEAR(vir[0][0][0][0].item<int>(), 68, 3);
  EXPECT_NEAR(vir[0][2][0][0].item<int>(), 84, 3);
  EXPECT_NEAR(vir[0][0][0][1].item<int>(), 253, 3);
  EXPECT_NEAR(vir[0][1][0][1].item<int>(), 231, 3);
  EXPECT_THROW(colormap_lut("rainbowish"), ImageIOError);

  auto up = upscale_nearest(torch::arange(4).view({1, 2, 2}), 3);
  EXPECT_EQ(up.sizes(), (std::vector<std::int64_t>{1, 6, 6}));
  EXPECT_EQ(up[0][2][2].item<int>(), 0);
  EXPECT_EQ(up[0][5][3].item<int>(), 3);
  EXPECT_EQ(auto_scale(32, 32, 128), 4);
  EXPECT_EQ(auto_scale(28, 28, 128), 5);
  EXPECT_EQ(auto_scale(200, 100, 128), 1);

  auto strip = flat_to_strip(torch::arange(100, torch::kFloat32).view({1, 100}));
  EXPECT_EQ(strip.sizes(), (std::vector<std::int64_t>{1, 1, 2, 64}));
  EXPECT_EQ(strip[0][0][1][35].item<float>(), 99.f);
  EXPECT_EQ(strip[0][0][1][36].item<float>(), 0.f);  // padding takes the minimum

  auto st = map_stats(torch::tensor({0.f, 0.f, 1.f, 3.f, -1.f, 2.f, 2.f, 1.f}).view({2, 4}));
  EXPECT_DOUBLE_EQ(st.min[0], 0.0);
  EXPECT_DOUBLE_EQ(st.max[0], 3.0);
  EXPECT_DOUBLE_EQ(st.mean[1], 1.0);
  EXPECT_DOUBLE_EQ(st.zero_fraction[0], 0.5);
  EXPECT_DOUBLE_EQ(st.zero_fraction[1], 0.0);
}

TEST(FilterImages, RgbFirstLayerIsOneColourImagePerFilterElseOneTilePerKernel) {
  Model rgb = build_model(residual_config(3));
  auto w = conv_kernel(rgb.layers[0]);
  ASSERT_TRUE(w.defined());
  EXPECT_EQ(w.sizes(), (std::vector<std::int64_t>{4, 3, 3, 3}));
  EXPECT_FALSE(conv_kernel(rgb.layers[1]).defined());  // residual: address its body
  EXPECT_TRUE(conv_kernel(rgb.layers[1].children[0]).defined());
  EXPECT_FALSE(conv_kernel(rgb.layers[2]).defined());

  auto f = filter_images(w, true, MapNormalize::kChannel, "gray", 8);
  EXPECT_TRUE(f.rgb);
  EXPECT_EQ(f.images.sizes(), (std::vector<std::int64_t>{4, 3, 24, 24}));
  EXPECT_EQ(f.labels.size(), 4u);
  // Per filter the extreme weights map to 0 and 255.
  auto first = f.images[0];
  EXPECT_EQ(first.min().item<int>(), 0);
  EXPECT_EQ(first.max().item<int>(), 255);
  // The pixel at kernel (c=1, y=2, x=0) follows the weight's place in the filter's range.
  auto k = w[0].detach();
  double lo = k.min().item<double>(), hi = k.max().item<double>();
  int expected = static_cast<int>(std::lround((k[1][2][0].item<double>() - lo) / (hi - lo) * 255));
  EXPECT_NEAR(f.images[0][1][2 * 8][0].item<int>(), expected, 1);

  auto inner = conv_kernel(rgb.layers[1].children[1]);  // [4, 4, 3, 3]
  auto g = filter_images(inner, false, MapNormalize::kLayer, "viridis", 2, 1);
  EXPECT_FALSE(g.rgb);
  EXPECT_EQ(g.images.sizes(), (std::vector<std::int64_t>{16, 3, 6, 6}));
  EXPECT_EQ(g.columns, 4);
  auto grid = make_grid(g.images, g.labels, [&] { GridOptions o; o.columns = g.columns; o.scale = 1; return o; }());
  EXPECT_EQ(grid.size(0), 3);
}

// Layer titles of feature-map pictures: batch_norm resolves to an options object (true, or the
// options given), and a conv2d's maxpool comes before it.
TEST(FeatureMapTitles, DescribeConvWithMaxpoolBatchNormAndActivation) {
  json bn_conv = {{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3}, {"padding", "same"},
                  {"maxpool", 2},     {"batch_norm", true}, {"activation", "gelu"}};
  json bn_options = bn_conv;
  bn_options["batch_norm"] = {{"momentum", 0.4}};
  bn_options.erase("maxpool");
  json plain = {{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3}, {"strides", 2}};
  json raw = {{"input", {{"channels", 1}, {"height", 8}, {"width", 8}}},
              {"layers", json::array({bn_conv, bn_options, plain})}};
  auto src = std::make_shared<ConfigSource>();
  src->file = "titles.json";
  Model m = build_model(resolve_config(raw, src));
  EXPECT_EQ(describe_layer(m.layers[0]), "conv2d 3×3 + maxpool 2×2 + batch norm + gelu");
  EXPECT_EQ(describe_layer(m.layers[1]), "conv2d 3×3 + batch norm + gelu");
  EXPECT_EQ(describe_layer(m.layers[2]), "conv2d 3×3, stride 2");  // activation linear by default
}
