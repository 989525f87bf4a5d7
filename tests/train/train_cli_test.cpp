// Training, evaluation and prediction end to end on a small real MNIST subset.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/cli.h"
#include "train/train_fixtures.h"

using namespace cnnkit::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json evaluate_json(const std::string& checkpoint) {
  auto r = run_cli({"evaluate", "--checkpoint", checkpoint, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out);
}

class TrainCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_mnist()) GTEST_SKIP() << "../shared/data/mnist not found";
  }
};

}  // namespace

TEST_F(TrainCli, TrainsWritesCompleteRunDirAndEvaluates) {
  TempDir dir;
  std::string cfg = small_config(dir, R"({"epochs": 2, "batch_size": 64, "seed": 1,
                                          "optimizer": {"type": "adam", "lr": 0.002}})");
  std::string run = dir.str("run");
  auto r = run_cli({"train", "--config", cfg, "--run-dir", run, "--json", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;  // two epochs and the final line
  EXPECT_EQ(lines[0]["event"], "epoch");
  EXPECT_EQ(lines[2]["event"], "final");
  EXPECT_LT(lines[1]["train_loss"].get<double>(), lines[0]["train_loss"].get<double>());
  // No validation split: the per-epoch figures are the test split's, labelled so.
  EXPECT_FALSE(lines[1].contains("val_accuracy"));
  EXPECT_GT(lines[1]["test_accuracy"].get<double>(), 0.7);  // chance is 0.1
  EXPECT_GT(lines[2]["test_accuracy"].get<double>(), 0.7);

  for (const char* f : {"config.json", "summary.json", "summary.txt", "metrics.jsonl", "metrics.csv", "last.pt",
                        "curves.png", "final.json"}) {
    EXPECT_TRUE(fs::exists(fs::path(run) / f)) << f;
  }
  EXPECT_FALSE(fs::exists(fs::path(run) / "best.pt"));  // nothing is chosen by test-split figures
  EXPECT_NO_THROW(json::parse(read_file(run + "/config.json")));
  EXPECT_EQ(json::parse(read_file(run + "/summary.json"))["total_params"], 80 + 8 * 14 * 14 * 10 + 10);
  auto csv = read_file(run + "/metrics.csv");
  EXPECT_EQ(csv.rfind("epoch,train_loss,train_accuracy,test_loss,test_accuracy,lr,seconds,images_per_second\n", 0), 0u);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);
  EXPECT_EQ(json_lines(read_file(run + "/metrics.jsonl")).size(), 2u);
  auto png = read_file(run + "/curves.png");
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");

  // The checkpoint rebuilds the model alone: evaluating last.pt gives the final figures exactly.
  json final_doc = json::parse(read_file(run + "/final.json"));
  json ev = evaluate_json(run + "/last.pt");
  EXPECT_NEAR(ev["accuracy"].get<double>(), final_doc["test"]["accuracy"].get<double>(), 1e-12);
  EXPECT_NEAR(ev["loss"].get<double>(), final_doc["test"]["loss"].get<double>(), 1e-6);
  EXPECT_EQ(ev["count"], 500);
  EXPECT_EQ(ev["per_class"].size(), 10u);
  EXPECT_EQ(ev["confusion_matrix"].size(), 10u);

  // The human report and a confusion heatmap.
  auto table = run_cli({"evaluate", "--checkpoint", run, "--confusion-png", dir.str("confusion.png")});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("confusion matrix"), std::string::npos);
  EXPECT_NE(table.out.find("precision"), std::string::npos);
  EXPECT_EQ(read_file(dir.str("confusion.png")).substr(1, 3), "PNG");

  // A truncated copy of a good checkpoint is refused with a clear message.
  std::string whole = read_file(run + "/last.pt");
  std::string cut = dir.write("cut.pt", whole.substr(0, whole.size() / 2));
  auto t = run_cli({"evaluate", "--checkpoint", cut});
  EXPECT_EQ(t.exit_code, 1);
  EXPECT_NE(t.err.find("cut.pt: not a readable checkpoint"), std::string::npos) << t.err;
}

TEST_F(TrainCli, ResumeEqualsUninterruptedRun) {
  TempDir dir;
  std::string training = R"({"epochs": 2, "batch_size": 100, "seed": 7, "optimizer": {"type": "sgd", "lr": 0.05}})";
  std::string cfg = small_config(dir, training, 1000);
  auto full = run_cli({"train", "--config", cfg, "--run-dir", dir.str("full"), "--quiet"});
  ASSERT_EQ(full.exit_code, 0) << full.err;
  auto part = run_cli({"train", "--config", cfg, "--run-dir", dir.str("part"), "--quiet", "--set", "training.epochs=1"});
  ASSERT_EQ(part.exit_code, 0) << part.err;
  auto resumed = run_cli({"train", "--resume", dir.str("part"), "--quiet", "--set", "training.epochs=2"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  json a = json::parse(read_file(dir.str("full/final.json")));
  json b = json::parse(read_file(dir.str("part/final.json")));
  EXPECT_EQ(b["epochs"], 2);
  EXPECT_NEAR(a["test"]["loss"].get<double>(), b["test"]["loss"].get<double>(), 1e-6);
  EXPECT_EQ(a["test"]["accuracy"], b["test"]["accuracy"]);
  EXPECT_EQ(json_lines(read_file(dir.str("part/metrics.jsonl"))).size(), 2u);
}

TEST_F(TrainCli, SigintWritesLoadableCheckpointAndResumes) {
  TempDir dir;
  std::string cfg = small_config(dir, R"({"epochs": 50, "batch_size": 32})", 20000);
  std::string run = dir.str("run");
  int pid = spawn_cli({"train", "--config", cfg, "--run-dir", run}, dir.str("out.txt"), dir.str("err.txt"));
  // Wait until training has started (the run directory holds its summary), then interrupt.
  for (int i = 0; i < 600 && !fs::exists(fs::path(run) / "summary.txt"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  kill(pid, SIGINT);
  int code = wait_cli(pid);
  std::string err = read_file(dir.str("err.txt"));
  EXPECT_EQ(code, 130) << err;
  EXPECT_NE(err.find("cnnkit: interrupted by SIGINT"), std::string::npos) << err;
  EXPECT_EQ(err.find("error"), std::string::npos) << "an interrupt is not an error: " << err;
  EXPECT_NE(err.find("--resume"), std::string::npos) << err;
  ASSERT_TRUE(fs::exists(fs::path(run) / "last.pt"));
  json ev = evaluate_json(run + "/last.pt");
  EXPECT_EQ(ev["count"], 500);
  // And it resumes (stop it after one more epoch).
  auto r = run_cli({"train", "--resume", run, "--quiet", "--set", "training.epochs=1", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"event\":\"final\""), std::string::npos);
}

TEST_F(TrainCli, PredictPrintsJsonLinesAndFlagsBadImages) {
  TempDir dir;
  std::string cfg = small_config(dir, R"({"epochs": 1, "batch_size": 64})");
  ASSERT_EQ(run_cli({"train", "--config", cfg, "--run-dir", dir.str("run"), "--quiet"}).exit_code, 0);
  // A test image: export one through `cnnkit data --preview` is heavier; write a PGM digit-like image.
  std::string img = dir.str("seven.pgm");
  {
    std::ofstream f(img, std::ios::binary);
    f << "P5\n28 28\n255\n";
    for (int i = 0; i < 28 * 28; ++i) f.put(static_cast<char>((i / 28 > 5 && i % 28 > 10 && i % 28 < 14) ? 255 : 0));
  }
  std::string bad = dir.write("broken.png", "not an image");
  auto r = run_cli({"predict", "--checkpoint", dir.str("run"), img, bad, "--top-k", "3"});
  EXPECT_EQ(r.exit_code, 1);
  auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["path"], img);
  EXPECT_EQ(lines[0]["top_k"].size(), 3u);
  double p = lines[0]["probability"].get<double>();
  EXPECT_GT(p, 0.0);
  EXPECT_LE(p, 1.0);
  EXPECT_TRUE(lines[1].contains("error"));
  EXPECT_NE(r.err.find("1 image could not be classified"), std::string::npos);
  // Paths from stdin.
  auto s = run_cli({"predict", "--checkpoint", dir.str("run/last.pt")}, img + "\n" + img + "\n");
  EXPECT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(json_lines(s.out).size(), 2u);
}

TEST_F(TrainCli, TargetAccuracyGatesWithExitCode3) {
  TempDir dir;
  std::string cfg = small_config(dir, R"({"epochs": 1, "batch_size": 64})", 500);
  auto r = run_cli({"train", "--config", cfg, "--run-dir", dir.str("run"), "--quiet", "--target-accuracy", "0.9999"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("below the target"), std::string::npos);
  auto bad = run_cli({"train", "--config", cfg, "--target-accuracy", "99"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("between 0 and 1"), std::string::npos);
}

TEST_F(TrainCli, NonFiniteLossStopsNamingEpochAndBatch) {
  TempDir dir;
  std::string cfg = small_config(dir, R"({"epochs": 1, "batch_size": 64, "optimizer": {"type": "sgd", "lr": 10.0, "momentum": 0.99}})");
  auto r = run_cli({"train", "--config", cfg, "--run-dir", dir.str("run"), "--quiet"});
  // With lr 10 and momentum 0.99 the loss overflows within the epoch.
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("non-finite loss"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("epoch 1"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(TrainCliErrors, SetErrorsExit2WithClearMessages) {
  TempDir dir;
  std::string cfg = config_path("mnist.json");
  auto unknown = run_cli({"train", "--config", cfg, "--set", "training.epoch=5", "--print-config"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("--set training.epoch=5"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("did you mean 'epochs'"), std::string::npos) << unknown.err;
  auto type = run_cli({"train", "--config", cfg, "--set", "training.epochs=abc", "--print-config"});
  EXPECT_EQ(type.exit_code, 2);
  EXPECT_NE(type.err.find("--set training.epochs=abc: must be an integer"), std::string::npos) << type.err;
  auto section = run_cli({"train", "--config", cfg, "--set", "trainig.epochs=3", "--print-config"});
  EXPECT_EQ(section.exit_code, 2);
  EXPECT_NE(section.err.find("did you mean 'training'"), std::string::npos) << section.err;
  auto printed = run_cli({"train", "--config", cfg, "--set", "training.epochs=3", "--print-config"});
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  EXPECT_EQ(json::parse(printed.out)["training"]["epochs"], 3);
}

TEST(TrainCliErrors, BadCheckpointsGiveClearErrors) {
  TempDir dir;
  auto missing = run_cli({"evaluate", "--checkpoint", dir.str("nope.pt")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nope.pt: checkpoint not found"), std::string::npos) << missing.err;
  std::string garbage = dir.write("garbage.pt", std::string(4096, 'x'));
  auto g = run_cli({"evaluate", "--checkpoint", garbage});
  EXPECT_EQ(g.exit_code, 1);
  EXPECT_NE(g.err.find("garbage.pt: not a readable checkpoint"), std::string::npos) << g.err;
  EXPECT_EQ(std::count(g.err.begin(), g.err.end(), '\n'), 1) << g.err;
  auto dir_only = run_cli({"evaluate", "--checkpoint", dir.str()});
  EXPECT_EQ(dir_only.exit_code, 1);
  EXPECT_NE(dir_only.err.find("without best.pt or last.pt"), std::string::npos) << dir_only.err;
}
