// `cnnkit bench --json` holds every figure the speed issue asks for; bf16 trains like fp32.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

#include "cnnkit/core/runtime_info.h"
#include "support/cli.h"

using namespace cnnkit::test;
using nlohmann::json;
namespace fs = std::filesystem;

TEST(BenchCli, JsonHoldsEveryFigure) {
  TempDir dir;
  json cfg = {{"name", "benchy"},
              {"input", {{"channels", 1}, {"height", 28}, {"width", 28}}},
              {"data", {{"source", "mnist"}, {"root", (shared_data() / "mnist").string()}, {"limit_train", 1000},
                        {"limit_test", 100}, {"augment", {{"random_crop", {{"padding", 2}}}}}}},
              {"layers", json::array({{{"type", "conv2d"}, {"filters", 8}, {"kernel_size", 3}, {"activation", "relu"}},
                                      {{"type", "global_avgpool2d"}},
                                      {{"type", "dense"}, {"units", 10}}})},
              {"training", {{"batch_size", 32}}}};
  std::string path = dir.write("bench.json", cfg.dump());
  bool have_data = fs::exists(shared_data() / "mnist" / "train-images-idx3-ubyte.gz");
  std::vector<std::string> args = {"bench", "--config", path, "--json", "--rounds", "2", "--seconds", "0.1",
                                    "--matmul-size", "256", "--layers"};
  if (!have_data) args.push_back("--no-data");
  auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["batch_size"], 32);
  EXPECT_EQ(j["rounds"], 2);
  // conv 26*26*8*9 MACs + dense 8*10 MACs, 2 FLOPs each; training counted as 3x forward.
  double fwd = 2.0 * (26 * 26 * 8 * 9 + 8 * 10);
  EXPECT_DOUBLE_EQ(j["flops_per_image_forward"].get<double>(), fwd);
  EXPECT_DOUBLE_EQ(j["flops_per_image_train"].get<double>(), 3 * fwd);
  EXPECT_GT(j["matmul"]["flops_per_second"].get<double>(), 0);
  EXPECT_EQ(j["matmul"]["samples"].size(), 2u);
  for (const char* k : {"train", "inference"}) {
    EXPECT_GT(j[k]["images_per_second"].get<double>(), 0) << k;
    // The fraction is the median of per-round ratios (each round's segment against the matmul
    // measured just before it), so it holds on a machine whose speed drifts.
    double per_image = std::string(k) == "train" ? 3 * fwd : fwd;
    std::vector<double> ratios;
    for (int i = 0; i < 2; ++i)
      ratios.push_back(j[k]["samples"][i].get<double>() * per_image / j["matmul"]["samples"][i].get<double>());
    EXPECT_NEAR(j[k]["fraction_of_matmul"].get<double>(), (ratios[0] + ratios[1]) / 2, 1e-9) << k;
  }
  ASSERT_EQ(j["layers"].size(), 3u);
  EXPECT_EQ(j["layers"][0]["name"], "conv2d");
  EXPECT_GE(j["layers"][0]["forward_ms"].get<double>(), 0);
  EXPECT_GE(j["layers"][0]["backward_ms"].get<double>(), 0);
  if (have_data) {
    EXPECT_TRUE(j["data_pipeline"]["augmented"].get<bool>());
    EXPECT_GT(j["data_pipeline"]["images_per_second"].get<double>(), 0);
    EXPECT_GT(j["data_pipeline"]["times_training_rate"].get<double>(), 0);
  }
  // The table names the same figures.
  auto t = run_cli({"bench", "--config", path, "--rounds", "1", "--seconds", "0.05", "--matmul-size", "128", "--no-data"});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("of matmul"), std::string::npos);
  EXPECT_NE(t.out.find("train"), std::string::npos);
  EXPECT_NE(t.out.find("inference"), std::string::npos);
}

TEST(BenchCli, Bf16TrainsMnistSubsetLikeFp32) {
  if (!cnnkit::cpu_has_bf16()) GTEST_SKIP() << "this CPU has no AVX512-BF16";
  if (!fs::exists(shared_data() / "mnist" / "train-images-idx3-ubyte.gz")) GTEST_SKIP() << "no MNIST";
  TempDir dir;
  json cfg = {{"name", "bf16"},
              {"input", {{"channels", 1}, {"height", 28}, {"width", 28}}},
              {"init", "he"},
              {"data", {{"source", "mnist"}, {"root", (shared_data() / "mnist").string()}, {"limit_train", 3000},
                        {"limit_test", 1000}}},
              {"layers", json::array({{{"type", "conv2d"}, {"filters", 16}, {"kernel_size", 3}, {"padding", "same"},
                                       {"activation", "relu"}},
                                      {{"type", "maxpool2d"}, {"pool_size", 2}},
                                      {{"type", "flatten"}},
                                      {{"type", "dense"}, {"units", 10}}})},
              {"training", {{"epochs", 2}, {"batch_size", 64}, {"optimizer", {{"type", "adam"}, {"lr", 0.002}}}}}};
  std::string path = dir.write("bf16.json", cfg.dump());
  auto accuracy = [&](const std::string& precision) {
    auto r = run_cli({"train", "--config", path, "--run-dir", dir.str(precision), "--quiet", "--json", "--set",
                      "training.precision=" + precision});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::istringstream in(r.out);
    std::string line, last;
    while (std::getline(in, line))
      if (!line.empty()) last = line;
    return json::parse(last)["test_accuracy"].get<double>();
  };
  double fp32 = accuracy("fp32"), bf16 = accuracy("bf16");
  EXPECT_GT(fp32, 0.8);  // chance is 0.1; two short epochs on 3,000 images
  EXPECT_GT(bf16, 0.8);
  EXPECT_NEAR(bf16, fp32, 0.02);
}
