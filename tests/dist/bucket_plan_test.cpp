#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cnnkit/core/error.h"
#include "cnnkit/dist/bucket_plan.h"

using namespace cnnkit;
using namespace cnnkit::dist;

namespace {
std::vector<torch::Tensor> floats(std::initializer_list<int64_t> numels) {
  std::vector<torch::Tensor> v;
  for (auto n : numels) v.push_back(torch::zeros({n}));
  return v;
}
std::vector<std::vector<size_t>> indices(const std::vector<Bucket>& buckets) {
  std::vector<std::vector<size_t>> out;
  for (const auto& b : buckets) out.push_back(b.params);
  return out;
}
}  // namespace

TEST(BucketPlan, ReverseOrderSmallFirstBucketThenLargeOnes) {
  // 4-byte floats; first bucket closes at >= 40 bytes, later ones at >= 100 bytes.
  auto params = floats({5, 20, 5, 5, 10, 2});
  auto buckets = plan_buckets(params, {40, 100});
  EXPECT_EQ(indices(buckets), (std::vector<std::vector<size_t>>{{5, 4}, {3, 2, 1}, {0}}));
  EXPECT_EQ(buckets[0].numel, 12);
  EXPECT_EQ(buckets[1].numel, 30);
  EXPECT_EQ(buckets[2].numel, 5);
  EXPECT_EQ(buckets[0].dtype, torch::kFloat);
}

TEST(BucketPlan, ALargeTensorMakesItsOwnBucket) {
  auto params = floats({1000, 1, 1});
  auto buckets = plan_buckets(params, {8, 16});
  EXPECT_EQ(indices(buckets), (std::vector<std::vector<size_t>>{{2, 1}, {0}}));
}

TEST(BucketPlan, DefaultsAreDdps) {
  BucketOptions o;
  EXPECT_EQ(o.first_bucket_bytes, 1 << 20);
  EXPECT_EQ(o.bucket_bytes, 25 << 20);
  // A 1.5 MB model: a first bucket of at least 1 MiB, the rest in a second one.
  auto params = floats({200000, 100000, 75000});  // 800 KB, 400 KB, 300 KB
  EXPECT_EQ(indices(plan_buckets(params)), (std::vector<std::vector<size_t>>{{2, 1, 0}}));
  auto bigger = floats({300000, 200000, 100000});  // 1.2 MB, 800 KB, 400 KB
  EXPECT_EQ(indices(plan_buckets(bigger)), (std::vector<std::vector<size_t>>{{2, 1}, {0}}));
}

TEST(BucketPlan, OneBucketStreamPerDtype) {
  std::vector<torch::Tensor> params{torch::zeros({4}), torch::zeros({4}, torch::kDouble), torch::zeros({4}),
                                    torch::zeros({4}, torch::kDouble)};
  auto buckets = plan_buckets(params, {1000, 1000});
  ASSERT_EQ(buckets.size(), 2u);
  EXPECT_EQ(buckets[0].params, (std::vector<size_t>{3, 1}));  // filled first: the last parameter is a double
  EXPECT_EQ(buckets[0].dtype, torch::kDouble);
  EXPECT_EQ(buckets[1].params, (std::vector<size_t>{2, 0}));
  EXPECT_EQ(buckets[1].dtype, torch::kFloat);
}

TEST(BucketPlan, NoParametersNoBuckets) { EXPECT_TRUE(plan_buckets({}).empty()); }

TEST(BucketPlan, RejectsNonPositiveSizes) {
  EXPECT_THROW(plan_buckets(floats({1}), {0, 10}), UsageError);
  EXPECT_THROW(plan_buckets(floats({1}), {10, -1}), UsageError);
}
