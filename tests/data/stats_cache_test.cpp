// The training split's pixel statistics cache (data/stats_cache.h) behind
// training_normalization(): hits, what invalidates an entry, and failures that must stay silent.
#include "cnnkit/data/stats_cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "cnnkit/config/config.h"
#include "cnnkit/data/dataset.h"
#include "data/fixtures.h"
#include "support/cli.h"

using namespace cnnkit;
using namespace cnnkit::test;
namespace fs = std::filesystem;

namespace {

// Points the cache at a fresh folder for one test and restores the old setting afterwards.
class StatsCache : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* old = std::getenv("CNNKIT_CACHE_DIR")) old_ = old;
    setenv("CNNKIT_CACHE_DIR", cache_.str().c_str(), 1);
    write_cifar10(data_.path() / "c", 6, 4);
  }
  void TearDown() override {
    if (old_) setenv("CNNKIT_CACHE_DIR", old_->c_str(), 1);
    else unsetenv("CNNKIT_CACHE_DIR");
  }
  Config config(const std::string& extra = "") const {
    return load_config(write_config(data_.path(), R"({"source": "cifar10", "root": ")" + data_.str("c") + "\"" + extra + "}",
                                    3, 32, 32));
  }
  std::size_t entries() const {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(cache_.path())) n += e.path().extension() == ".json";
    return n;
  }

  TempDir cache_{"stats-cache"};
  TempDir data_{"stats-data"};
  std::optional<std::string> old_;
};

}  // namespace

TEST_F(StatsCache, SecondLookupIsServedFromTheCacheWithTheSameValues) {
  auto first = training_normalization(config(), {});
  EXPECT_EQ(first.from, "training split");
  EXPECT_EQ(entries(), 1u);
  auto second = training_normalization(config(), {});
  EXPECT_EQ(second.from, "training split (cached)");
  EXPECT_EQ(second.normalization.mean, first.normalization.mean);
  EXPECT_EQ(second.normalization.std, first.normalization.std);
  // And they are the statistics load_datasets computes.
  auto loaded = load_datasets(config(), {}).normalization;
  EXPECT_EQ(second.normalization.mean, loaded.mean);
  EXPECT_EQ(second.normalization.std, loaded.std);
}

TEST_F(StatsCache, AChangedDataFileInvalidatesTheEntry) {
  auto before = training_normalization(config(), {});
  ASSERT_EQ(training_normalization(config(), {}).from, "training split (cached)");
  // Different content (and size) in one training batch.
  std::string bytes;
  for (int i = 0; i < 9; ++i) bytes += cifar_record(100 + i, i % 10);
  write_file(data_.path() / "c" / "data_batch_2.bin", bytes);
  auto after = training_normalization(config(), {});
  EXPECT_EQ(after.from, "training split");
  EXPECT_NE(after.normalization.mean, before.normalization.mean);
}

TEST_F(StatsCache, TheKeyFollowsTheSplitButNotAugmentation) {
  training_normalization(config(), {});
  EXPECT_EQ(training_normalization(config(R"(, "augment": {"horizontal_flip": true})"), {}).from,
            "training split (cached)");
  EXPECT_EQ(training_normalization(config(R"(, "validation_split": 0.5)"), {}).from, "training split");
  EXPECT_EQ(training_normalization(config(R"(, "limit_train": 10)"), {}).from, "training split");
  EXPECT_EQ(entries(), 3u);
}

TEST_F(StatsCache, FixedNormalisationNeedsNoData) {
  auto n = training_normalization(config(R"(, "normalize": {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]})"), {});
  EXPECT_EQ(n.from, "config");
  EXPECT_EQ(n.normalization.std, (std::vector<double>{0.25, 0.25, 0.25}));
  EXPECT_EQ(entries(), 0u);
}

TEST_F(StatsCache, ACorruptEntryIsAMissNotAnError) {
  training_normalization(config(), {});
  for (const auto& e : fs::directory_iterator(cache_.path())) write_file(e.path(), "{ not json");
  auto n = training_normalization(config(), {});
  EXPECT_EQ(n.from, "training split");
  EXPECT_EQ(training_normalization(config(), {}).from, "training split (cached)");  // rewritten
}

TEST_F(StatsCache, AnUnwritableCacheFolderIsIgnored) {
  const std::string blocked = data_.write("a-file", "x") + "/cache";  // a folder under a file cannot exist
  setenv("CNNKIT_CACHE_DIR", blocked.c_str(), 1);
  EXPECT_EQ(training_normalization(config(), {}).from, "training split");
  EXPECT_EQ(training_normalization(config(), {}).from, "training split");
}

TEST_F(StatsCache, CacheFolderFollowsTheEnvironment) {
  EXPECT_EQ(stats_cache_dir(), cache_.str());
  unsetenv("CNNKIT_CACHE_DIR");
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const std::string old_xdg = xdg ? xdg : "";
  setenv("XDG_CACHE_HOME", "/x/cache", 1);
  EXPECT_EQ(stats_cache_dir(), "/x/cache/cnnkit");
  if (xdg) setenv("XDG_CACHE_HOME", old_xdg.c_str(), 1);
  else unsetenv("XDG_CACHE_HOME");
}

TEST_F(StatsCache, APoisonedEntryIsAMissNotAWrongNormalisation) {
  const auto good = training_normalization(config(), {}).normalization;
  fs::path entry;
  for (const auto& e : fs::directory_iterator(cache_.path())) entry = e.path();
  const json original = json::parse(read_file(entry.string()));
  // Values a [0, 1] pixel statistic cannot take, or a channel count the model does not have.
  for (const json& poison : {json{{"mean", {0.5, 7.0, 0.5}}}, json{{"std", {0.2, 0.2, -0.1}}},
                             json{{"std", {0.2, 0.9, 0.2}}}, json{{"mean", {0.5}}, {"std", {0.2}}},
                             json{{"mean", {0.5, 0.5, 0.5, 0.5}}, {"std", {0.2, 0.2, 0.2, 0.2}}}}) {
    json e = original;
    for (auto it = poison.begin(); it != poison.end(); ++it) e[it.key()] = it.value();
    write_file(entry, e.dump());
    auto n = training_normalization(config(), {});
    EXPECT_EQ(n.from, "training split") << poison.dump();
    EXPECT_EQ(n.normalization.mean, good.mean) << poison.dump();
  }
  // A FIFO in place of the entry is a miss too, without blocking.
  fs::remove(entry);
  ASSERT_EQ(::mkfifo(entry.c_str(), 0600), 0);
  EXPECT_EQ(training_normalization(config(), {}).from, "training split");
}

TEST_F(StatsCache, SymlinkLoopsInADataFolderDoNotHangTheFingerprint) {
  // An image-folder-like tree with two links back to its root: 2^depth paths if followed blindly.
  fs::create_directories(data_.path() / "tree" / "a");
  write_file(data_.path() / "tree" / "a" / "x.bin", "1234");
  fs::create_directory_symlink(data_.path() / "tree", data_.path() / "tree" / "a" / "up1");
  fs::create_directory_symlink(data_.path() / "tree", data_.path() / "tree" / "a" / "up2");
  const json key = {{"format", 1}, {"root", data_.str("tree")}, {"input", {{"channels", 1}}}};
  write_cached_pixel_stats(key, {data_.str("tree")}, Normalization{{0.5}, {0.25}});
  auto n = read_cached_pixel_stats(key);
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->std, std::vector<double>{0.25});
}
