#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cnnkit/io/image_io.h"
#include "data/fixtures.h"
#include "support/cli.h"

using namespace cnnkit;
using namespace cnnkit::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {
struct MnistFixture {
  TempDir dir{"data-cli"};
  std::string config;
  MnistFixture() {
    write_mnist(dir.path() / "m", 40, 20);
    config = write_config(dir.path(), R"({"source": "mnist", "root": ")" + dir.str("m") + R"(", "validation_split": 0.25})",
                          1, 28, 28);
  }
};
}  // namespace

TEST(DataCli, PrintsTheResolvedData) {
  MnistFixture f;
  auto r = run_cli({"data", "--config", f.config});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("source        mnist"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("images        train 30, validation 10, test 20"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("image shape   1×28×28"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("pixel mean"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("train-labels-idx1-ubyte.gz"), std::string::npos) << r.out;
}

TEST(DataCli, JsonForScripts) {
  MnistFixture f;
  auto r = run_cli({"data", "-c", f.config, "--json", "--set", "data.limit_train=20"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["source"], "mnist");
  EXPECT_EQ(j["splits"]["train"]["images"], 15);
  EXPECT_EQ(j["splits"]["validation"]["images"], 5);
  EXPECT_EQ(j["splits"]["test"]["per_class"].size(), 10u);
  // Shapes in JSON are objects, as in `summary --json`.
  EXPECT_EQ(j["image_shape"], json({{"channels", 1}, {"height", 28}, {"width", 28}}));
  EXPECT_EQ(j["normalization"]["mean"].size(), 1u);
  EXPECT_TRUE(j["load_seconds"].is_number());
}

TEST(DataCli, RootPrecedence) {
  MnistFixture f;
  write_mnist(f.dir.path() / "env", 10, 10);
  write_mnist(f.dir.path() / "flag", 20, 10);
  auto env = "CNNKIT_DATA=" + f.dir.str("env");
  auto r = run_cli({"data", "-c", f.config, "--json"}, "", {env});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["root_from"], "CNNKIT_DATA");
  EXPECT_EQ(json::parse(r.out)["loaded"]["train"], 10);
  r = run_cli({"data", "-c", f.config, "--json", "--data-root", f.dir.str("flag")}, "", {env});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["root_from"], "--data-root");
  EXPECT_EQ(json::parse(r.out)["loaded"]["train"], 20);
}

TEST(DataCli, PreviewWritesALabelledGrid) {
  if (!image_io_available()) GTEST_SKIP() << "built without OpenCV";
  MnistFixture f;
  const std::string png = f.dir.str("grid.png");
  auto r = run_cli({"data", "-c", f.config, "--preview", "8", "--out", png});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::exists(png));
  auto grid = read_image(png, 3);
  EXPECT_GT(grid.size(1), 2 * 28 * 3);
  EXPECT_GT(grid.size(2), 3 * 28 * 3);
  const std::string aug_config =
      write_config(f.dir.path(), R"({"source": "mnist", "root": ")" + f.dir.str("m") +
                                     R"(", "augment": {"random_crop": {"padding": 4}, "cutout": true}})",
                   1, 28, 28, 10, "aug.json");
  const std::string a1 = f.dir.str("a1.png"), a2 = f.dir.str("a2.png"), a3 = f.dir.str("a3.png");
  ASSERT_EQ(run_cli({"data", "-c", aug_config, "--preview", "8", "--out", a1, "--augmented", "--seed", "3"}).exit_code, 0);
  ASSERT_EQ(run_cli({"data", "-c", aug_config, "--preview", "8", "--out", a2, "--augmented", "--seed", "3"}).exit_code, 0);
  ASSERT_EQ(run_cli({"data", "-c", aug_config, "--preview", "8", "--out", a3, "--seed", "3"}).exit_code, 0);
  EXPECT_TRUE(read_image(a1, 3).equal(read_image(a2, 3)));
  EXPECT_FALSE(read_image(a1, 3).equal(read_image(a3, 3)));
}

TEST(DataCli, UsageErrors) {
  MnistFixture f;
  auto r = run_cli({"data", "-c", f.config, "--preview", "4"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--preview needs --out FILE.png"), std::string::npos) << r.err;
  r = run_cli({"data"});
  EXPECT_EQ(r.exit_code, 2);
  r = run_cli({"data", "-c", f.config, "--set", "data.sorce=mnist"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--set data.sorce=mnist: unknown key 'sorce' (did you mean 'source'?)"), std::string::npos) << r.err;
}

TEST(DataCli, BadDataExitsOneWithOneLine) {
  MnistFixture f;
  write_file(f.dir.path() / "m" / "train-images-idx3-ubyte.gz", idx_images_bytes(40, 28, 28).substr(0, 1000), true);
  auto r = run_cli({"data", "-c", f.config});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "cnnkit: error: " + f.dir.str("m") + "/train-images-idx3-ubyte.gz: truncated: expected 31376 bytes, got 1000\n");
  EXPECT_TRUE(r.out.empty());
  r = run_cli({"data", "-c", f.config, "--data-root", f.dir.str("missing")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("data folder not found"), std::string::npos) << r.err;
}

TEST(DataCli, BenchReportsRates) {
  MnistFixture f;
  auto r = run_cli({"data", "-c", f.config, "--json", "--bench", "--batch-size", "8", "--bench-seconds", "0.2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json b = json::parse(r.out)["bench"];
  EXPECT_GT(b["pipeline_images_per_second"].get<double>(), 0);
  EXPECT_GT(b["train_step_images_per_second"].get<double>(), 0);
}
