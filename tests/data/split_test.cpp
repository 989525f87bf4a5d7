#include <gtest/gtest.h>

#include "cnnkit/data/normalization.h"
#include "cnnkit/data/split.h"

using namespace cnnkit;

namespace {
ImageSet make_set(const std::vector<std::int64_t>& per_class) {
  std::vector<std::int64_t> labels;
  for (std::size_t c = 0; c < per_class.size(); ++c) labels.insert(labels.end(), per_class[c], std::int64_t(c));
  const auto n = static_cast<std::int64_t>(labels.size());
  auto images = torch::arange(n, torch::kInt64).remainder(256).to(torch::kUInt8).view({n, 1, 1, 1}).expand({n, 1, 2, 2});
  return ImageSet{images.contiguous(), torch::tensor(labels, torch::kInt64)};
}
}  // namespace

TEST(DataSplit, ValidationIsStratifiedDisjointAndSeeded) {
  ImageSet set = make_set({100, 50, 30, 20});
  auto [train, val] = split_validation(set, 0.2, 7);
  EXPECT_EQ(val.size(), 40);
  EXPECT_EQ(train.size(), 160);
  EXPECT_EQ(class_counts(val, 4), (std::vector<std::int64_t>{20, 10, 6, 4}));
  // Disjoint and complete: the image values are the original indices.
  auto all = torch::cat({train.images.select(2, 0).select(2, 0).flatten(), val.images.select(2, 0).select(2, 0).flatten()});
  EXPECT_EQ(std::get<0>(torch::_unique(all)).numel(), 200);
  auto [train2, val2] = split_validation(set, 0.2, 7);
  EXPECT_TRUE(val.images.equal(val2.images));
  auto [train3, val3] = split_validation(set, 0.2, 8);
  EXPECT_FALSE(val.images.equal(val3.images));
  auto [all_train, none] = split_validation(set, 0.0, 7);
  EXPECT_EQ(all_train.size(), 200);
  EXPECT_EQ(none.size(), 0);
}

TEST(DataSplit, LimitIsStratifiedAndKeepsOrder) {
  ImageSet set = make_set({60, 30, 10});
  ImageSet small = stratified_limit(set, 10, 42);
  EXPECT_EQ(class_counts(small, 3), (std::vector<std::int64_t>{6, 3, 1}));
  auto values = small.images.select(2, 0).select(2, 0).flatten().to(torch::kInt64);
  EXPECT_TRUE(values.equal(std::get<0>(values.sort())));  // file order kept
  EXPECT_EQ(stratified_limit(set, 0, 42).size(), 100);
  EXPECT_EQ(stratified_limit(set, 500, 42).size(), 100);
}

TEST(DataNormalization, ComputedStatisticsAreExact) {
  auto images = torch::zeros({4, 2, 3, 3}, torch::kUInt8);
  images.select(1, 0).fill_(255);                  // channel 0: all 1.0
  images.select(1, 1).narrow(0, 0, 2).fill_(255);  // channel 1: half 1.0, half 0.0
  Normalization n = compute_normalization(images);
  EXPECT_DOUBLE_EQ(n.mean[0], 1.0);
  EXPECT_DOUBLE_EQ(n.std[0], 0.0);
  EXPECT_DOUBLE_EQ(n.mean[1], 0.5);
  EXPECT_NEAR(n.std[1], 0.5, 1e-12);
  auto random = torch::randint(0, 256, {64, 3, 8, 8}, torch::kInt64).to(torch::kUInt8);
  Normalization r = compute_normalization(random);
  auto f = random.to(torch::kDouble) / 255.0;
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(r.mean[c], f.select(1, c).mean().item<double>(), 1e-9);
    EXPECT_NEAR(r.std[c], f.select(1, c).std(/*unbiased=*/false).item<double>(), 1e-9);
  }
}
