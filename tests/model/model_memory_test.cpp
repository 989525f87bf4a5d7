// Models that cannot fit: the builder estimates float32 parameters plus one image's
// activations from the shapes it infers, and refuses with the estimate BEFORE allocating
// weights (model/model.h); figures that would overflow 64 bits saturate instead.
#include <gtest/gtest.h>

#include "cnnkit/core/size_math.h"
#include "cnnkit/layers/layer_registry.h"
#include "cnnkit/model/summary.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using cnnkit::test::doc_error;
using cnnkit::test::model_doc;

namespace {

// Lowers the memory limit for one test.
class ModelMemory : public ::testing::Test {
 protected:
  void TearDown() override { set_model_memory_limit(0); }
};

}  // namespace

TEST_F(ModelMemory, AbsurdDenseLayerIsRefusedWithTheEstimate) {
  // 4096×4096 inputs flattened into 2^24 units: 2^48 weights (1 PiB), beyond any machine.
  json doc = model_doc({{{"type", "flatten"}}, {{"type", "dense"}, {"units", 1 << 24}}}, 1, 4096, 4096);
  const std::string msg = doc_error(doc);
  EXPECT_EQ(msg.rfind("test.json:/layers/1: dense 'dense': 281,474,993,487,872 parameters brings the model to about ", 0),
            0u) << msg;
  EXPECT_NE(msg.find("of memory this machine has"), std::string::npos) << msg;
}

TEST_F(ModelMemory, TheLimitCountsParametersAndActivations) {
  set_model_memory_limit(1 << 20);  // 1 MiB
  // 300 × 1000 dense weights = 1.14 MiB: refused at the dense layer, nothing allocated.
  json doc = model_doc({{{"type", "flatten"}}, {{"type", "dense"}, {"units", 1000}}}, 3, 10, 10);
  EXPECT_EQ(doc_error(doc),
            "test.json:/layers/1: dense 'dense': 301,000 parameters brings the model to about 1.15 MiB (parameters "
            "1.15 MiB + activations of one image 2.34 KiB, float32), more than the 1.00 MiB of memory this machine has");
  // An input whose one image is too large: refused at /input.
  doc = model_doc({{{"type", "flatten"}}}, 4, 512, 512);
  EXPECT_EQ(doc_error(doc),
            "test.json:/input: the model: the input 512×512×4 brings the model to about 4.00 MiB (parameters 0 B + "
            "activations of one image 4.00 MiB, float32), more than the 1.00 MiB of memory this machine has");
  // A layer whose output is too large, without any parameters.
  doc = model_doc({{{"type", "conv2d"}, {"filters", 64}, {"kernel_size", 1}, {"padding", 200}}}, 1, 8, 8);
  std::string msg = doc_error(doc);
  EXPECT_EQ(msg.rfind("test.json:/layers/0: conv2d 'conv2d': its output 408×408×64 brings the model to about", 0), 0u)
      << msg;
}

TEST_F(ModelMemory, EveryLayerReservesWhatItAllocates) {
  // The registry-wide rule: the count a layer reserves equals the parameters and statistics it
  // really holds, so the estimate is the truth and no layer type escapes it.
  for (const auto& type : LayerRegistry::instance().types()) {
    const LayerType* t = LayerRegistry::instance().find(type);
    json layer = t->example();
    layer["type"] = type;
    BuiltLayer b = cnnkit::test::build_one(layer, t->example_input());
    EXPECT_EQ(b.param_count, count_parameters(*b.module.ptr()).total()) << type;
  }
  // Including batch norm inside conv2d/dense and a residual projection.
  BuiltLayer r = cnnkit::test::build_one(
      {{"type", "residual"},
       {"layers", json::array({{{"type", "conv2d"}, {"filters", 6}, {"kernel_size", 3}, {"strides", 2},
                                {"padding", "same"}, {"batch_norm", true}}})}},
      Shape::spatial(3, 8, 8));
  EXPECT_EQ(r.param_count, count_parameters(*r.module.ptr()).total());
  BuiltLayer d = cnnkit::test::build_one({{"type", "dense"}, {"units", 5}, {"batch_norm", true}}, Shape::flat(7));
  EXPECT_EQ(d.param_count, count_parameters(*d.module.ptr()).total());
}

TEST_F(ModelMemory, HugeKernelsAndShapesDoNotOverflow) {
  // A 2^20 × 2^20 kernel on an input padded by 2^20: 2^40 weights (4 TiB), refused before allocation.
  json doc = model_doc({{{"type", "conv2d"}, {"filters", 1}, {"kernel_size", 1 << 20}, {"padding", 1 << 20}},
                        {{"type", "global_avgpool2d"}}},
                       1, 8, 8);
  EXPECT_NE(doc_error(doc).find("test.json:/layers/0: conv2d 'conv2d': 1,099,511,627,777 parameters brings the model"),
            std::string::npos) << doc_error(doc);
  EXPECT_EQ(Shape::spatial(1 << 16, 1 << 30, 1 << 30).numel(), kSizeSaturated);
}
