// Where a relative data.root is looked for: the run's own folder (for a trained run's config),
// the config file's folder, then the current directory; the error lists the places and names
// --data-root.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "cnnkit/config/config.h"
#include "cnnkit/core/error.h"
#include "cnnkit/data/dataset.h"
#include "data/fixtures.h"
#include "support/cli.h"

using namespace cnnkit;
using namespace cnnkit::test;
namespace fs = std::filesystem;

namespace {

class DataRoot : public ::testing::Test {
 protected:
  void SetUp() override { unsetenv("CNNKIT_DATA"); }
  TempDir tmp_{"cnnkit-root"};
  fs::path p(const std::string& rel) const { return tmp_.path() / rel; }

  // MNIST with `n` training images in `dir`, so that a load tells which folder it read.
  void mnist(const std::string& dir, int n) const { write_mnist(p(dir), n, 10, /*gz=*/false); }
  std::string config(const std::string& dir, const std::string& root) const {
    fs::create_directories(p(dir));
    return write_config(p(dir), R"({"source": "mnist", "root": ")" + root + R"("})", 1, 28, 28);
  }
  static std::int64_t train_count(const Datasets& d) { return d.description["loaded"]["train"].get<std::int64_t>(); }
};

}  // namespace

TEST_F(DataRoot, RelativeRootsResolveAgainstTheConfigFileFolderFirst) {
  mnist("exp/data", 20);
  mnist("work/data", 30);
  const std::string cfg = config("exp", "data");
  ScopedCwd in(p("work"));
  const Datasets d = load_datasets(load_config(cfg), {});
  EXPECT_EQ(train_count(d), 20);
  EXPECT_EQ(d.description["root"], p("exp/data").string());
  EXPECT_EQ(d.description["root_from"], "config");
}

TEST_F(DataRoot, ThenTheCurrentDirectoryAsForTheShippedConfigs) {
  mnist("data/mnist", 30);  // configs/mnist.json says "data/mnist", relative to the checkout
  const std::string cfg = config("configs", "data/mnist");
  ScopedCwd in(tmp_.path());
  EXPECT_EQ(train_count(load_datasets(load_config(cfg), {})), 30);
}

TEST_F(DataRoot, ATrainedRunReadsTheFolderItWasTrainedOnFromAnywhere) {
  mnist("project/data", 20);
  mnist("elsewhere/data", 30);
  // The config a checkpoint stores: relative root, no config folder to resolve against.
  auto source = std::make_shared<ConfigSource>();
  source->file = p("project/runs/x/best.pt").string() + "#config";
  source->stored = true;
  const Config stored = with_overrides(load_config(config("project", "data")), {});
  const Config run_config = resolve_config(stored.resolved(), source);
  DataLoadOptions o;
  o.trained_root = TrainedDataRoot{"data", p("project/data").string()};
  ScopedCwd in(p("elsewhere"));
  EXPECT_EQ(train_count(load_datasets(run_config, o)), 20);
  // data.root changed with --set: the trained folder no longer applies.
  o.trained_root = TrainedDataRoot{"other", p("project/data").string()};
  EXPECT_EQ(train_count(load_datasets(run_config, o)), 30);
  // --data-root beats everything.
  o.data_root = p("project/data").string();
  EXPECT_EQ(train_count(load_datasets(run_config, o)), 20);
}

TEST_F(DataRoot, MissingDataNamesEveryPlaceAndDataRoot) {
  const std::string cfg = config("exp", "data");
  fs::create_directories(p("work"));
  ScopedCwd in(p("work"));
  DataLoadOptions o;
  o.trained_root = TrainedDataRoot{"data", p("gone/data").string()};
  const std::string e = message_of([&] { load_datasets(load_config(cfg), o); });
  EXPECT_EQ(e.rfind("data: data folder not found (root from config data.root; looked in " + p("gone/data").string() +
                        ", " + p("exp/data").string() + ", " + p("work/data").string() +
                        "); give the data's folder with --data-root DIR",
                    0),
            0u)
      << e;
  o.data_root = "nowhere";
  EXPECT_EQ(message_of([&] { load_datasets(load_config(cfg), o); }).rfind("nowhere: data folder not found (root from --data-root)", 0), 0u);
}
