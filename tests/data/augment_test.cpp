#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include "cnnkit/config/config.h"
#include "cnnkit/data/augment.h"
#include "cnnkit/data/pipeline.h"

using namespace cnnkit;

namespace {
at::Generator gen(std::uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }
// Image b, channel c, pixel (y, x) = 100 * b + 10 * y + x (+ 50 c), as int64 for exact checks.
torch::Tensor ramp(std::int64_t b, std::int64_t c, std::int64_t h, std::int64_t w) {
  auto y = torch::arange(h, torch::kInt64).view({1, 1, h, 1});
  auto x = torch::arange(w, torch::kInt64).view({1, 1, 1, w});
  auto bi = torch::arange(b, torch::kInt64).view({b, 1, 1, 1});
  auto ci = torch::arange(c, torch::kInt64).view({1, c, 1, 1});
  return (100 * bi + 10 * y + x + 50 * ci).expand({b, c, h, w}).contiguous();
}
Config config_with(const std::string& augment, const std::string& normalize = "\"none\"") {
  std::string text = R"({"input": {"channels": 3, "height": 8, "width": 8}, "layers": [{"type": "flatten"}],
                         "data": {"source": "cifar10", "normalize": )" + normalize + R"(, "augment": )" + augment + "}}";
  auto source = std::make_shared<ConfigSource>();
  source->file = "a.json";
  return resolve_config(parse_json_text(text, "a.json"), source);
}
}  // namespace

TEST(DataAugment, CropMovesPixelsByTheOffset) {
  auto x = ramp(2, 1, 5, 6);
  // Image 0 at offset (0, 0) with padding 2: shifted down-right by 2, zeros in the border.
  auto out = crop_at(x, 2, false, torch::tensor({0, 4}), torch::tensor({0, 3}));
  EXPECT_EQ(out.sizes(), x.sizes());
  EXPECT_EQ(out[0][0][0][0].item<std::int64_t>(), 0);
  EXPECT_EQ(out[0][0][1][4].item<std::int64_t>(), 0);
  EXPECT_EQ(out[0][0][2][2].item<std::int64_t>(), x[0][0][0][0].item<std::int64_t>());
  EXPECT_EQ(out[0][0][4][5].item<std::int64_t>(), x[0][0][2][3].item<std::int64_t>());
  // Image 1 at offset (4, 3): shifted up by 2 and left by 1; bottom rows zero.
  EXPECT_EQ(out[1][0][0][0].item<std::int64_t>(), x[1][0][2][1].item<std::int64_t>());
  EXPECT_EQ(out[1][0][2][4].item<std::int64_t>(), x[1][0][4][5].item<std::int64_t>());
  EXPECT_EQ(out[1][0][3][0].item<std::int64_t>(), 0);
  EXPECT_EQ(out[1][0][0][5].item<std::int64_t>(), 0);
  // The centre offset (padding, padding) is the identity.
  EXPECT_TRUE(crop_at(x, 2, false, torch::tensor({2, 2}), torch::tensor({2, 2})).equal(x));
}

TEST(DataAugment, ReflectCropMirrorsWithoutRepeatingTheEdge) {
  auto x = ramp(1, 1, 4, 4);
  auto out = crop_at(x, 2, true, torch::tensor({0}), torch::tensor({0}));
  auto padded = torch::reflection_pad2d(x.to(torch::kFloat), {2, 2, 2, 2}).to(torch::kInt64);
  EXPECT_TRUE(out.equal(padded.narrow(2, 0, 4).narrow(3, 0, 4)));
  out = crop_at(x, 2, true, torch::tensor({4}), torch::tensor({3}));
  EXPECT_TRUE(out.equal(padded.narrow(2, 4, 4).narrow(3, 3, 4)));
}

TEST(DataAugment, FlipWhereMirrorsOnlyMaskedImages) {
  auto x = ramp(3, 2, 3, 4);
  auto out = flip_where(x, torch::tensor({true, false, true}));
  EXPECT_TRUE(out[0].equal(x[0].flip({2})));
  EXPECT_TRUE(out[1].equal(x[1]));
  EXPECT_EQ(out[2][1][1][0].item<std::int64_t>(), x[2][1][1][3].item<std::int64_t>());
}

TEST(DataAugment, RandomOpsAreSeededAndShapePreserving) {
  auto x = torch::randint(0, 256, {64, 3, 16, 16}, torch::kInt64).to(torch::kUInt8);
  for (int op = 0; op < 4; ++op) {
    auto apply = [&](std::uint64_t seed) {
      auto g = gen(seed);
      auto f = x.to(torch::kFloat);
      switch (op) {
        case 0: return random_crop(x, RandomCropOptions{4, "reflect"}, g).to(torch::kFloat);
        case 1: return random_horizontal_flip(x, g).to(torch::kFloat);
        case 2: return cutout(f, CutoutOptions{6, 1.0}, g);
        default: return random_erasing(f, RandomErasingOptions{}, g);
      }
    };
    auto a = apply(1), b = apply(1), c = apply(2);
    EXPECT_EQ(a.sizes(), x.sizes()) << op;
    EXPECT_TRUE(a.equal(b)) << op;
    EXPECT_FALSE(a.equal(c)) << op;
    EXPECT_FALSE(a.equal(x.to(torch::kFloat))) << op;
  }
  // About half the images flipped.
  auto g = gen(3);
  auto flipped = random_horizontal_flip(x, g);
  auto changed = (flipped != x).flatten(1).any(1).sum().item<std::int64_t>();
  EXPECT_GT(changed, 16);
  EXPECT_LT(changed, 48);
}

TEST(DataAugment, CutoutAndErasingBoxes) {
  auto x = torch::ones({200, 1, 32, 32});
  auto g = gen(5);
  auto out = cutout(x, CutoutOptions{8, 1.0}, g);
  auto zeros = (out == 0).flatten(1).sum(1);
  EXPECT_LE(zeros.max().item<std::int64_t>(), 64);  // clipped at borders, never larger
  EXPECT_EQ(zeros.max().item<std::int64_t>(), 64);
  EXPECT_GT(zeros.min().item<std::int64_t>(), 0);
  auto boxes = erase_boxes(torch::ones({2, 1, 4, 4}), torch::tensor({1, 0}), torch::tensor({3, 4}), torch::tensor({0, 2}),
                           torch::tensor({2, 3}), torch::tensor({true, false}), -1.0);
  EXPECT_EQ((boxes[0] == -1).sum().item<std::int64_t>(), 4);
  EXPECT_EQ(boxes[0][0][1][1].item<float>(), -1.0f);
  EXPECT_TRUE(boxes[1].equal(torch::ones({1, 4, 4})));
  auto g2 = gen(6);
  auto erased = random_erasing(x, RandomErasingOptions{1.0, 0.1, 0.1, 1.0, 1.0, false, 0.0}, g2);
  auto area = (erased == 0).flatten(1).sum(1).to(torch::kDouble);
  EXPECT_NEAR(area.mean().item<double>(), 0.1 * 32 * 32, 12);
}

TEST(DataAugment, PipelineNormalisesAndAugmentsOnlyWhenTraining) {
  Config plain = config_with("{}", R"({"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.5, 1.0]})");
  BatchPipeline p(plain, Normalization{{0.5, 0.5, 0.5}, {0.25, 0.5, 1.0}}, c10::Device(c10::kCPU));
  EXPECT_FALSE(p.augments());
  auto images = torch::full({2, 3, 8, 8}, 255, torch::kUInt8);
  auto g = gen(1);
  auto out = p.prepare(images, true, g);
  EXPECT_EQ(out.scalar_type(), torch::kFloat);
  EXPECT_NEAR(out[0][0][0][0].item<float>(), 2.0, 1e-5);
  EXPECT_NEAR(out[0][1][0][0].item<float>(), 1.0, 1e-5);
  EXPECT_NEAR(out[0][2][0][0].item<float>(), 0.5, 1e-5);

  Config aug = config_with(R"({"random_crop": {"padding": 2}, "horizontal_flip": true, "cutout": {"size": 3}})");
  BatchPipeline q(aug, Normalization{{0, 0, 0}, {1, 1, 1}}, c10::Device(c10::kCPU));
  EXPECT_TRUE(q.augments());
  ImageSet set{torch::randint(1, 256, {16, 3, 8, 8}, torch::kInt64).to(torch::kUInt8), torch::zeros({16}, torch::kInt64)};
  auto idx = torch::tensor({3, 1, 4, 1, 5, 9, 2, 6});
  auto g1 = gen(9), g2 = gen(9);
  auto a = q.batch(set, idx, true, g1), b = q.batch(set, idx, true, g2);
  EXPECT_TRUE(a.equal(b));
  EXPECT_EQ(a.sizes(), (std::vector<std::int64_t>{8, 3, 8, 8}));
  auto eval = q.batch(set, idx, false, g1);
  EXPECT_TRUE(eval.allclose(set.images.index_select(0, idx).to(torch::kFloat) / 255.0, 1e-6, 1e-6));
  EXPECT_FALSE(a.equal(eval));
}
