// The model builder: one config layer = one child of the top-level Sequential, shapes passed
// from layer to layer, and shape errors that name the layer and both shapes.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cnnkit/model/model.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using cnnkit::test::doc_error;
using cnnkit::test::model_doc;
using cnnkit::test::resolve_doc;

namespace {
json conv(int filters, json extra = json::object()) {
  json c = {{"type", "conv2d"}, {"filters", filters}, {"kernel_size", 3}};
  for (auto it = extra.begin(); it != extra.end(); ++it) c[it.key()] = it.value();
  return c;
}
}  // namespace

TEST(Builder, OneChildPerConfigLayerInOrder) {
  json layers = {conv(8, {{"padding", "same"}, {"batch_norm", true}, {"activation", "relu"}}),
                 {{"type", "maxpool2d"}, {"name", "pool"}},
                 {{"type", "spatial_dropout"}, {"rate", 0.1}},
                 {{"type", "residual"}, {"layers", {conv(8, {{"padding", "same"}}), conv(8, {{"padding", "same"}})}}},
                 {{"type", "global_avgpool2d"}},
                 {{"type", "dense"}, {"units", 16}, {"batch_norm", true}, {"activation", "gelu"}},
                 {{"type", "dropout"}, {"rate", 0.5}},
                 {{"type", "dense"}, {"units", 5}},
                 {{"type", "log_softmax"}}};
  Model m = build_model(resolve_doc(model_doc(layers, 3, 16, 16)));
  ASSERT_EQ(m.layers.size(), 9u);
  ASSERT_EQ(m.net->size(), 9u);
  std::vector<std::string> children;
  for (const auto& item : m.net->named_children()) children.push_back(item.key());
  EXPECT_EQ(children, (std::vector<std::string>{"conv2d", "pool", "spatial_dropout", "residual", "global_avgpool2d", "dense",
                                                "dropout", "dense_1", "log_softmax"}));
  for (std::size_t i = 0; i < m.layers.size(); ++i) {
    EXPECT_EQ(m.net->children()[i].get(), m.layers[i].module.ptr().get()) << i;
    if (i) {
      EXPECT_EQ(m.layers[i].input, m.layers[i - 1].output) << i;
    }
  }
  EXPECT_EQ(m.layers[0].input, Shape::spatial(3, 16, 16));
  EXPECT_EQ(m.layers[3].output, Shape::spatial(8, 8, 8));
  EXPECT_EQ(m.layers[4].output, Shape::flat(8));
  EXPECT_EQ(m.output(), Shape::flat(5));
  EXPECT_EQ(m.num_outputs(), 5);
  EXPECT_EQ(m.layers[3].children.size(), 2u);
  EXPECT_EQ(m.layers[1].params["name"], "pool");

  torch::manual_seed(0);
  m.net->train();
  auto y = m.net->forward(torch::randn({4, 3, 16, 16}));
  EXPECT_EQ(y.sizes().vec(), (std::vector<std::int64_t>{4, 5}));
  EXPECT_TRUE(torch::allclose(y.exp().sum(1), torch::ones({4})));  // log_softmax over classes
}

TEST(Builder, LayerAfterFlattenShowsBothShapes) {
  EXPECT_EQ(doc_error(model_doc({conv(4), {{"type", "flatten"}}, conv(4)}, 3, 8, 8)),
            "test.json:/layers/2: conv2d 'conv2d_1' cannot take its input: needs a spatial input H×W×C, got 144 (flat); "
            "put it before flatten/dense/global pooling");
  EXPECT_EQ(doc_error(model_doc({conv(4), {{"type", "dense"}, {"units", 3}}}, 3, 8, 8)),
            "test.json:/layers/1: dense 'dense' cannot take its input: needs a flat input (features), got 6×6×4 (spatial "
            "H×W×C); add a flatten or global_avgpool2d layer before it");
  EXPECT_EQ(doc_error(model_doc({{{"type", "flatten"}}, {{"type", "maxpool2d"}, {"name", "p"}}}, 3, 8, 8)),
            "test.json:/layers/1: maxpool2d 'p' cannot take its input: needs a spatial input H×W×C, got 192 (flat); put "
            "it before flatten/dense/global pooling");
  EXPECT_EQ(doc_error(model_doc({{{"type", "global_avgpool2d"}}, {{"type", "global_avgpool2d"}}}, 3, 8, 8)),
            "test.json:/layers/1: global_avgpool2d 'global_avgpool2d_1' cannot take its input: needs a spatial input "
            "H×W×C, got 3 (flat); put it before flatten/dense/global pooling");
}

TEST(Builder, KernelLargerThanTheShrunkenInput) {
  // 8 -> 6 -> 4 -> 2: the fourth 3×3 valid convolution no longer fits.
  EXPECT_EQ(doc_error(model_doc({conv(4), conv(4), conv(4), conv(4)}, 3, 8, 8)),
            "test.json:/layers/3/kernel_size: conv2d 'conv2d_3' cannot take its input: kernel 3×3 is larger than the "
            "padded input 2×2 (input 2×2×4)");
  EXPECT_EQ(doc_error(model_doc({{{"type", "maxpool2d"}, {"pool_size", 4}}, {{"type", "maxpool2d"}, {"pool_size", 4}}}, 3, 8, 8)),
            "test.json:/layers/1/pool_size: maxpool2d 'maxpool2d_1' cannot take its input: pool_size 4×4 is larger than "
            "the input 2×2×3 (try padding \"same\")");
}

TEST(Builder, CountParametersCountsBatchNormStatisticsAsNonTrainable) {
  Model m = build_model(resolve_doc(model_doc({conv(8, {{"batch_norm", true}}), {{"type", "batch_norm"}},
                                               {{"type", "flatten"}}, {{"type", "dense"}, {"units", 4}, {"batch_norm", true}}},
                                              3, 5, 5)));
  ParamCount pc = count_parameters(*m.net);
  EXPECT_EQ(pc.trainable, (8 * 27 + 16) + 16 + (72 * 4 + 8));
  EXPECT_EQ(pc.non_trainable, 16 + 16 + 8);
  EXPECT_EQ(pc.total(), pc.trainable + pc.non_trainable);
  // Frozen parameters move to non-trainable.
  for (auto& p : m.layers[0].module.ptr()->parameters()) p.set_requires_grad(false);
  EXPECT_EQ(count_parameters(*m.net).trainable, 16 + (72 * 4 + 8));
}
