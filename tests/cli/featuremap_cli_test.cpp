// cnnkit featuremap end to end: files, sizes, pixel values, compare images, manifest, errors.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "cnnkit/config/config.h"
#include "cnnkit/io/image_io.h"
#include "cnnkit/model/checkpoint.h"
#include "cnnkit/model/model.h"
#include "cnnkit/viz/feature_maps.h"
#include "data/fixtures.h"
#include "support/cli.h"

using namespace cnnkit;
using namespace cnnkit::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool have_mnist() { return fs::exists(shared_data() / "mnist" / "train-images-idx3-ubyte.gz"); }

json conv(int filters) {
  return {{"type", "conv2d"}, {"filters", filters}, {"kernel_size", 3}, {"padding", "same"}, {"activation", "relu"}};
}

// A model-only config (no data section): 1×12×12 input, residual body, flat tail.
std::string model_config(const TempDir& dir) {
  json c = {{"name", "small"},
            {"input", {{"channels", 1}, {"height", 12}, {"width", 12}}},
            {"training", {{"seed", 7}}},
            {"layers", json::array({conv(3),
                                    {{"type", "residual"}, {"layers", json::array({conv(3), conv(3)})}},
                                    {{"type", "maxpool2d"}, {"pool_size", 2}},
                                    {{"type", "flatten"}},
                                    {{"type", "dense"}, {"units", 5}}})}};
  return dir.write("small.json", c.dump(2));
}

// MNIST with a 4-filter conv: trained for one epoch on 500 images.
json mnist_config(int filters) {
  return {{"name", "tinyfm"},
          {"input", {{"channels", 1}, {"height", 28}, {"width", 28}}},
          {"init", "he"},
          {"data",
           {{"source", "mnist"}, {"root", (shared_data() / "mnist").string()}, {"limit_train", 500}, {"limit_test", 50}}},
          {"layers", json::array({conv(filters),
                                  {{"type", "maxpool2d"}, {"pool_size", 2}},
                                  {{"type", "flatten"}},
                                  {{"type", "dense"}, {"units", 10}}})},
          {"training", {{"epochs", 1}, {"batch_size", 50}, {"seed", 3}, {"optimizer", {{"type", "adam"}, {"lr", 0.01}}}}}};
}

// A gradient test image written with the library's own PNG writer.
std::string test_image(const TempDir& dir, int h, int w, const std::string& name = "in.png") {
  auto img = (torch::arange(h * w) * 7 % 256).to(torch::kUInt8).view({1, h, w});
  std::string path = dir.str(name);
  write_png(path, img);
  return path;
}

std::set<std::string> files_under(const fs::path& root) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) out.insert(e.path().string());
  return out;
}

std::set<std::string> manifest_files(const json& m) {
  std::set<std::string> out;
  for (const auto& f : m["files"]) out.insert(f["path"].get<std::string>());
  return out;
}

json entry(const json& m, const std::string& kind, const std::string& layer, int channel = -1) {
  for (const auto& f : m["files"])
    if (f["kind"] == kind && f["layer"] == layer && (channel < 0 ? f["channel"].is_null() : f["channel"] == channel))
      return f;
  return nullptr;
}

// uint8 [H, W] expected from one float map with the range [lo, hi].
torch::Tensor expected_u8(const torch::Tensor& map, double lo, double hi) {
  return ((map - lo) / (hi - lo) * 255.0).round().clamp(0, 255).to(torch::kUInt8);
}

}  // namespace

TEST(FeaturemapCli, UntrainedModelWritesChannelsGridInputAndAManifestOfEveryFile) {
  TempDir dir;
  std::string cfg = model_config(dir);
  std::string img = test_image(dir, 20, 16);  // resized to 12×12
  std::string out = dir.str("fm");
  auto r = run_cli({"featuremap", "--config", cfg, "--image", img, "--layer", "0", "--colormap", "gray", "--scale", "2",
                    "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json m = json::parse(r.out);  // stdout is the manifest only
  EXPECT_EQ(m["model"], "small");
  EXPECT_TRUE(m["checkpoint"].is_null());
  EXPECT_EQ(manifest_files(m), files_under(out));
  EXPECT_EQ(m["files"].size(), 5u);  // input, 3 channels, grid
  for (int c = 0; c < 3; ++c) {
    auto t = read_image(out + "/0_conv2d/channel_00" + std::to_string(c) + ".png", 1);
    EXPECT_EQ(t.sizes(), (std::vector<std::int64_t>{1, 24, 24}));
  }
  EXPECT_EQ(read_image(out + "/input.png", 1).sizes(), (std::vector<std::int64_t>{1, 24, 24}));
  auto grid = read_image(out + "/0_conv2d/grid.png", 3);
  EXPECT_GT(grid.size(2), 3 * 24);
  json ch1 = entry(m, "channel", "0", 1);
  ASSERT_FALSE(ch1.is_null()) << m.dump(2);
  EXPECT_EQ(ch1["layer_name"], "conv2d");
  EXPECT_EQ(ch1["shape"], json({{"channels", 3}, {"height", 12}, {"width", 12}}));
  EXPECT_EQ(ch1["image_size"], json({24, 24}));
  EXPECT_GE(ch1["zero_fraction"].get<double>(), 0.0);

  // The channel image is the tensor it came from: the same seed (training.seed) gives the same
  // untrained model; the input has mean 0 / std 1 (no data section).
  torch::manual_seed(7);
  Model model = build_model(load_config(cfg));
  model.net->eval();
  auto x = read_image(img, 1, {12, 12}).to(torch::kFloat32).div(255).unsqueeze(0);
  auto map = capture_layer_outputs(model, x, {"0"}).at("0")[0][1];
  EXPECT_NEAR(ch1["min"].get<double>(), map.min().item<double>(), 1e-5);
  EXPECT_NEAR(ch1["max"].get<double>(), map.max().item<double>(), 1e-5);
  EXPECT_NEAR(ch1["mean"].get<double>(), map.mean().item<double>(), 1e-5);
  auto want = expected_u8(map, map.min().item<double>(), map.max().item<double>());
  auto png = read_image(out + "/0_conv2d/channel_001.png", 1)[0];
  auto got = png.slice(0, 0, 24, 2).slice(1, 0, 24, 2);  // undo the 2× nearest upscaling
  EXPECT_LE((got.to(torch::kInt) - want.to(torch::kInt)).abs().max().item<int>(), 1);
  EXPECT_TRUE(torch::equal(png.slice(0, 1, 24, 2).slice(1, 1, 24, 2), got));
}

// The untrained model's "auto" normalisation is the training split's statistics: computed by
// loading the data the first time, then read from the statistics cache (the speed of the
// "before" picture), with the same values; a changed data file is noticed.
TEST(FeaturemapCli, UntrainedAutoNormalisationIsCachedAcrossRuns) {
  TempDir dir;
  write_cifar10(dir.path() / "c", 4, 3);
  std::string cfg = write_config(dir.path(), R"({"source": "cifar10", "root": ")" + dir.str("c") + R"("})", 3, 32, 32);
  const std::vector<std::string> env = {"CNNKIT_CACHE_DIR=" + dir.str("cache")};
  auto run = [&] {
    auto r = run_cli({"featuremap", "--config", cfg, "--index", "1", "--layer", "0", "--out", dir.str("fm")}, "", env);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out)["models"][0]["normalization"];
  };
  json first = run(), second = run();
  EXPECT_EQ(first["from"], "training split");
  EXPECT_EQ(second["from"], "training split (cached)");
  EXPECT_EQ(first["mean"], second["mean"]);
  EXPECT_EQ(first["std"], second["std"]);
  write_cifar10(dir.path() / "c", 5, 3);  // more records: the cached entry is stale
  json third = run();
  EXPECT_EQ(third["from"], "training split");
}

TEST(FeaturemapCli, AllLayersIncludingResidualBodiesAndFlatStripsAndSeveralInputs) {
  TempDir dir;
  std::string cfg = model_config(dir);
  std::string a = test_image(dir, 12, 12, "a.png"), b = test_image(dir, 30, 30, "b.png");
  std::string out = dir.str("fm");
  auto r = run_cli({"featuremap", "--config", cfg, "--image", a, "--image", b, "--layer", "all", "--normalize", "layer",
                    "--filters", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json m = json::parse(r.out);
  EXPECT_EQ(manifest_files(m), files_under(out));
  EXPECT_EQ(m["inputs"].size(), 2u);
  EXPECT_EQ(m["layers"].size(), 7u);  // 0, 1, 1.0, 1.1, 2, 3, 4
  // Per input: input.png + 5 spatial layers (0, 1, 1.0, 1.1, 2) × (3 channels + grid) + 2 flat
  // strips = 23; filters: 0, 1.0, 1.1.
  EXPECT_EQ(m["files"].size(), 2u * 23u + 3u);
  for (std::string in : {"input_0", "input_1"}) {
    EXPECT_TRUE(fs::exists(out + "/" + in + "/input.png"));
    EXPECT_TRUE(fs::exists(out + "/" + in + "/1.1_conv2d_2/channel_002.png"));
    EXPECT_TRUE(fs::exists(out + "/" + in + "/4_dense/grid.png"));
    EXPECT_FALSE(fs::exists(out + "/" + in + "/4_dense/channel_000.png"));
  }
  EXPECT_TRUE(fs::exists(out + "/1.0_conv2d_1/filters.png"));
  json strip = entry(m, "grid", "3");
  EXPECT_EQ(strip["shape"], json({{"features", 108}}));  // 6×6×3 after the pool
  auto s = read_image(strip["path"], 3);
  EXPECT_GE(s.size(2), 64 * 8);  // rows of 64 cells of at least 8 px
  json f = entry(m, "filters", "0");
  EXPECT_EQ(f["shape"], json({{"filters", 3}, {"channels", 1}, {"height", 3}, {"width", 3}}));
}

TEST(FeaturemapCli, ErrorsAreClearWithNonZeroExit) {
  TempDir dir;
  std::string cfg = model_config(dir);
  std::string img = test_image(dir, 12, 12);
  std::string out = dir.str("fm");

  auto r = run_cli({"featuremap", "--config", cfg, "--image", img, "--layer", "7", "--out", out});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("layer index 7 out of range"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("valid: 0..4"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1.1=conv2d_2"), std::string::npos) << r.err;

  r = run_cli({"featuremap", "--config", cfg, "--image", img, "--layer", "conv2d_9", "--out", out});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown layer 'conv2d_9'"), std::string::npos) << r.err;

  r = run_cli({"featuremap", "--config", cfg, "--image", dir.str("nope.png"), "--out", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nope.png: image file not found"), std::string::npos) << r.err;

  std::string junk = dir.write("junk.png", "this is not a png");
  r = run_cli({"featuremap", "--config", cfg, "--image", junk, "--out", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("junk.png: cannot decode image"), std::string::npos) << r.err;

  std::string file = dir.write("afile", "x");
  r = run_cli({"featuremap", "--config", cfg, "--image", img, "--out", file + "/sub"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--out " + file + "/sub: cannot create the output folder"), std::string::npos) << r.err;

  r = run_cli_in(dir.str(), {"featuremap", "--image", img, "--out", out});  // a folder without runs/
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no --checkpoint given and no run found"), std::string::npos) << r.err;

  r = run_cli({"featuremap", "--config", cfg, "--index", "0", "--out", out});  // no data section
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("data"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

class FeaturemapTrained : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!have_mnist()) return;
    dir_ = new TempDir("cnnkit-fm");
    config_ = dir_->write("tiny.json", mnist_config(4).dump(2));
    run_ = dir_->str("run");
    auto r = run_cli({"train", "--config", config_, "--run-dir", run_, "--threads", "2", "-q"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!have_mnist()) GTEST_SKIP() << "../shared/data/mnist not found";
  }
  static TempDir* dir_;
  static std::string config_, run_;
};
TempDir* FeaturemapTrained::dir_ = nullptr;
std::string FeaturemapTrained::config_, FeaturemapTrained::run_;

TEST_F(FeaturemapTrained, CheckpointWithTestIndexWritesIntoTheRunDirWithFilters) {
  auto r = run_cli({"featuremap", "--checkpoint", run_, "--index", "3", "--layer", "conv2d,3", "--filters"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json m = json::parse(r.out);
  const std::string out = run_ + "/featuremaps";
  EXPECT_EQ(m["out"], out);
  EXPECT_EQ(m["checkpoint"], run_ + "/last.pt");
  EXPECT_EQ(manifest_files(m), files_under(out));
  EXPECT_EQ(m["inputs"][0]["index"], 3);
  EXPECT_TRUE(m["inputs"][0].contains("label"));
  EXPECT_EQ(m["models"][0]["normalization"]["from"], "checkpoint");
  EXPECT_TRUE(fs::exists(out + "/0_conv2d/channel_003.png"));
  EXPECT_TRUE(fs::exists(out + "/3_dense/grid.png"));
  EXPECT_TRUE(fs::exists(out + "/0_conv2d/filters.png"));
  EXPECT_EQ(read_image(out + "/0_conv2d/channel_000.png", 1).size(1), 28 * 5);  // auto scale: >= 128 px

  r = run_cli({"featuremap", "--checkpoint", run_, "--index", "50", "--out", dir_->str("x")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--index 50: the test split"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(0..49)"), std::string::npos) << r.err;
}

TEST_F(FeaturemapTrained, ACheckpointThatDoesNotMatchTheConfigIsRefused) {
  std::string other = dir_->write("other.json", mnist_config(6).dump(2));
  auto r = run_cli({"featuremap", "--checkpoint", run_, "--config", other, "--index", "0", "--out", dir_->str("y")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not match"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("conv.weight"), std::string::npos) << r.err;
  // The matching config is accepted and supplies the data.
  r = run_cli({"featuremap", "--checkpoint", run_, "--config", config_, "--index", "1", "--out", dir_->str("z")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(FeaturemapTrained, CompareHoldsBothModelsMapsWithSharedNormalisation) {
  std::string img = test_image(*dir_, 28, 28);
  std::string out = dir_->str("cmp");
  auto r = run_cli({"featuremap", "--compare", "untrained", run_, "--image", img, "--layer", "0", "--colormap", "gray",
                    "--scale", "1", "--filters", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json m = json::parse(r.out);
  EXPECT_EQ(manifest_files(m), files_under(out));
  ASSERT_EQ(m["models"].size(), 2u);
  EXPECT_EQ(m["models"][0]["source"], "untrained");
  EXPECT_EQ(m["models"][1]["source"], run_ + "/last.pt");
  EXPECT_TRUE(fs::exists(out + "/0_conv2d/compare.png"));
  EXPECT_TRUE(fs::exists(out + "/0_conv2d/filters.png"));

  // The models as the command built them: A = the untrained model of the checkpoint's config
  // (seeded with training.seed), B = the trained weights; both see the checkpoint's normalisation.
  LoadedCheckpoint ck = read_checkpoint(run_ + "/last.pt");
  torch::manual_seed(3);
  Model a = build_model(ck.config);
  Model b = build_model(ck.config);
  load_weights(ck, b);
  a.net->eval();
  b.net->eval();
  double mean = ck.meta["normalization"]["mean"][0], stdv = ck.meta["normalization"]["std"][0];
  auto x = ((read_image(img, 1).to(torch::kFloat32) / 255 - mean) / stdv).unsqueeze(0);
  auto ma = capture_layer_outputs(a, x, {"0"}).at("0")[0];
  auto mb = capture_layer_outputs(b, x, {"0"}).at("0")[0];
  EXPECT_FALSE(torch::allclose(ma, mb));  // training changed the layer

  for (int c = 0; c < 4; ++c) {
    json e = entry(m, "compare", "0", c);
    ASSERT_FALSE(e.is_null());
    ASSERT_EQ(e["models"].size(), 2u);
    EXPECT_NEAR(e["models"][0]["max"].get<double>(), ma[c].max().item<double>(), 1e-4);
    EXPECT_NEAR(e["models"][1]["max"].get<double>(), mb[c].max().item<double>(), 1e-4);
    auto png = read_image(e["path"], 1)[0];
    // A caption line ("A: untrained", "B: trained") over the two maps, 8 pixels apart.
    ASSERT_EQ(png.size(1), 28 + 8 + 28);
    ASSERT_GT(png.size(0), 28);
    png = png.slice(0, png.size(0) - 28);
    double lo = std::min(ma[c].min().item<double>(), mb[c].min().item<double>());
    double hi = std::max(ma[c].max().item<double>(), mb[c].max().item<double>());
    auto left = png.slice(1, 0, 28).to(torch::kInt), right = png.slice(1, 36, 64).to(torch::kInt);
    EXPECT_LE((left - expected_u8(ma[c], lo, hi).to(torch::kInt)).abs().max().item<int>(), 1) << "channel " << c;
    EXPECT_LE((right - expected_u8(mb[c], lo, hi).to(torch::kInt)).abs().max().item<int>(), 1) << "channel " << c;
  }
}
