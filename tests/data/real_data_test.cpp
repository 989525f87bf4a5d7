// The real datasets in ../shared/data, checked against the facts its README lists.
// Skipped when the shared data is absent.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "cnnkit/config/config.h"
#include "cnnkit/data/dataset.h"
#include "cnnkit/data/image_folder.h"
#include "cnnkit/data/split.h"
#include "data/fixtures.h"
#include "support/cli.h"

using namespace cnnkit;
using namespace cnnkit::test;
namespace fs = std::filesystem;

TEST(DataReal, MnistMatchesTheKnownFacts) {
  const fs::path root = shared_data() / "mnist";
  if (!fs::exists(root / "train-images-idx3-ubyte.gz")) GTEST_SKIP() << "no shared MNIST at " << root;
  TempDir dir("real");
  std::string cfg = write_config(dir.path(), R"({"source": "mnist", "root": ")" + root.string() + R"("})", 1, 28, 28);
  Datasets d = load_datasets(load_config(cfg), {});
  ASSERT_EQ(d.train.size(), 60000);
  ASSERT_EQ(d.test.size(), 10000);
  EXPECT_EQ(class_counts(d.train, 10),
            (std::vector<std::int64_t>{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}));
  std::vector<std::int64_t> first(d.test.labels.data_ptr<std::int64_t>(), d.test.labels.data_ptr<std::int64_t>() + 10);
  EXPECT_EQ(first, (std::vector<std::int64_t>{7, 2, 1, 0, 4, 1, 4, 9, 5, 9}));
  EXPECT_NEAR(d.normalization.mean[0], 0.1307, 5e-5);
  EXPECT_NEAR(d.normalization.std[0], 0.3081, 5e-5);
  EXPECT_LT(d.description["load_seconds"].get<double>(), 10.0);
}

TEST(DataReal, CifarFolderAndBinaryAgree) {
  auto cache = cifar10_cache();
  if (!cache) GTEST_SKIP() << "no shared CIFAR-10 under " << shared_data();
  TempDir dir("real");
  // Binary batches: every split and class count.
  std::string bin_cfg = write_config(dir.path(), R"({"source": "cifar10", "root": ")" + cache->bin.string() + R"("})", 3,
                                     32, 32, 10, "bin.json");
  Datasets bin = load_datasets(load_config(bin_cfg), {});
  ASSERT_EQ(bin.train.size(), 50000);
  ASSERT_EQ(bin.test.size(), 10000);
  EXPECT_EQ(class_counts(bin.train, 10), std::vector<std::int64_t>(10, 5000));
  EXPECT_EQ(class_counts(bin.test, 10), std::vector<std::int64_t>(10, 1000));
  EXPECT_EQ(bin.class_names, (std::vector<std::string>{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                                       "horse", "ship", "truck"}));
  // Per-channel means from the README, and the correct (not the widely copied) std.
  EXPECT_NEAR(bin.normalization.mean[0], 0.491, 2e-3);
  EXPECT_NEAR(bin.normalization.mean[1], 0.482, 2e-3);
  EXPECT_NEAR(bin.normalization.mean[2], 0.447, 2e-3);
  EXPECT_NEAR(bin.normalization.std[0], 0.247, 5e-3);
  EXPECT_NEAR(bin.normalization.std[1], 0.2435, 5e-3);
  EXPECT_NEAR(bin.normalization.std[2], 0.2616, 5e-3);

  // Image folder: class counts from the scan; the test split decoded (10,000 JPEGs).
  FolderScan train_scan = scan_image_folder((cache->jpg / "train").string());
  EXPECT_EQ(train_scan.class_names, bin.class_names);
  ASSERT_EQ(train_scan.files.size(), 50000u);
  DataLoadOptions test_only;
  test_only.need_train = false;
  std::string jpg_cfg = write_config(dir.path(), R"({"source": "folder", "root": ")" + cache->jpg.string() + R"("})", 3,
                                     32, 32, 10, "jpg.json");
  Datasets jpg = load_datasets(load_config(jpg_cfg), test_only);
  ASSERT_EQ(jpg.test.size(), 10000);
  EXPECT_EQ(class_counts(jpg.test, 10), std::vector<std::int64_t>(10, 1000));
  EXPECT_EQ(jpg.class_names, bin.class_names);

  // make-cifar10-bin.sh lists each split class by class in sorted path order (our folder order)
  // and shuffles the records with std::mt19937(20261129): replay the shuffle on indices.
  std::vector<std::int64_t> perm(10000);
  std::iota(perm.begin(), perm.end(), 0);
  std::mt19937 rng(20261129);
  std::shuffle(perm.begin(), perm.end(), rng);
  auto index = torch::tensor(perm, torch::kInt64);
  // One known pixel first (binary record 0, row 5, column 7, green), then everything.
  const std::int64_t k = perm[0];
  EXPECT_EQ(bin.test.images[0][1][5][7].item<int>(), jpg.test.images[k][1][5][7].item<int>());
  EXPECT_EQ(bin.test.labels[0].item<std::int64_t>(), jpg.test.labels[k].item<std::int64_t>());
  EXPECT_TRUE(bin.test.images.equal(jpg.test.images.index_select(0, index)));
  EXPECT_TRUE(bin.test.labels.equal(jpg.test.labels.index_select(0, index)));
}
