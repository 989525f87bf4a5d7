// The time-to-accuracy features end to end on a small real MNIST subset: no selection on the
// test split (labels, no best.pt, evaluate's stated choice), EMA weights evaluated and
// checkpointed beside the raw ones, TTA reported beside the plain figure, precision auto, and
// the recipe layers and options in one training run.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

#include "support/cli.h"
#include "train/train_fixtures.h"

using namespace cnnkit::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json tiny(const json& training, double validation_split, const json& extra = json::object()) {
  json c = {{"name", "tiny"},
            {"input", {{"channels", 1}, {"height", 28}, {"width", 28}}},
            {"init", "he"},
            {"data",
             {{"source", "mnist"},
              {"root", (shared_data() / "mnist").string()},
              {"limit_train", 1500},
              {"limit_test", 300},
              {"validation_split", validation_split}}},
            {"layers", json::array({{{"type", "conv2d"}, {"filters", 8}, {"kernel_size", 3}, {"padding", "same"},
                                     {"batch_norm", true}, {"activation", "relu"}},
                                    {{"type", "maxpool2d"}, {"pool_size", 2}},
                                    {{"type", "flatten"}},
                                    {{"type", "dense"}, {"units", 10}}})},
            {"training", training}};
  c.update(extra);
  return c;
}

json evaluate_json(const std::vector<std::string>& args) {
  std::vector<std::string> all = {"evaluate", "--json"};
  all.insert(all.end(), args.begin(), args.end());
  auto r = run_cli(all);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? json::parse(r.out) : json::object();
}

class RecipeCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_mnist()) GTEST_SKIP() << "../shared/data/mnist not found";
  }
};

}  // namespace

TEST_F(RecipeCli, WithoutAValidationSplitNothingIsSelectedOnTheTestSplit) {
  TempDir dir;
  std::string cfg = dir.write("t.json", tiny({{"epochs", 2}, {"batch_size", 100}, {"seed", 1}}, 0.0).dump());
  std::string run = dir.str("run");
  auto r = run_cli({"train", "--config", cfg, "--run-dir", run, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("watching (not selecting) on the test split"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no validation split"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("test_acc"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("(best)"), std::string::npos) << r.err;
  auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(lines[0].contains("test_accuracy"));
  EXPECT_FALSE(lines[0].contains("val_accuracy"));
  EXPECT_FALSE(fs::exists(fs::path(run) / "best.pt"));
  json final_doc = json::parse(read_file(run + "/final.json"));
  EXPECT_EQ(final_doc["monitoring_split"], "test");
  EXPECT_FALSE(final_doc.contains("best_epoch"));
  EXPECT_NE(final_doc["note"].get<std::string>().find("no best.pt"), std::string::npos);
  // evaluate RUN_DIR takes last.pt, says why, and reproduces final.json.
  json ev = evaluate_json({"--checkpoint", run});
  EXPECT_EQ(ev["checkpoint"], run + "/last.pt");
  EXPECT_NE(ev["checkpoint_reason"].get<std::string>().find("no validation split"), std::string::npos);
  EXPECT_EQ(ev["weights"], "raw");
  EXPECT_NEAR(ev["accuracy"].get<double>(), final_doc["test"]["accuracy"].get<double>(), 1e-12);
  auto table = run_cli({"evaluate", "--checkpoint", run});
  EXPECT_NE(table.out.find("checkpoint: " + run + "/last.pt (last.pt: the final weights"), std::string::npos)
      << table.out;

  // A policy watching val_* would select on the test split: a config error.
  std::string es = dir.write(
      "es.json", tiny({{"epochs", 1}, {"early_stopping", {{"metric", "val_accuracy"}}}}, 0.0).dump());
  auto e = run_cli({"train", "--config", es, "--run-dir", dir.str("es")});
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_NE(e.err.find("es.json:/training/early_stopping/metric: val_accuracy needs a validation split"),
            std::string::npos)
      << e.err;
}

TEST_F(RecipeCli, EmaAndTtaAreReportedBesideTheRawPlainFigures) {
  TempDir dir;
  json training = {{"epochs", 2},
                   {"batch_size", 50},
                   {"seed", 2},
                   {"precision", "auto"},
                   {"optimizer", {{"type", "sgd"}, {"lr", 0.05}, {"nesterov", true},
                                  {"groups", {{"norm", {{"lr_scale", 2}, {"weight_decay", 0}}}}}}},
                   {"schedule", {{"type", "linear"}, {"pct_start", 0.2}, {"start_factor", 0.2}}},
                   {"ema", {{"decay", 0.9}}}};
  std::string cfg = dir.write("t.json", tiny(training, 0.2, {{"evaluation", {{"tta", {{"translate", 1}}}}}}).dump());
  std::string run = dir.str("run");
  auto r = run_cli({"train", "--config", cfg, "--run-dir", run, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // precision auto is resolved and printed at the start
  EXPECT_TRUE(r.err.find(" in bf16 (auto: ") != std::string::npos || r.err.find(" in fp32 (auto: ") != std::string::npos)
      << r.err;
  auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(lines[1].contains("val_accuracy"));
  EXPECT_TRUE(lines[1].contains("ema_val_accuracy"));
  EXPECT_EQ(lines[2]["weights"], "ema");
  EXPECT_TRUE(lines[2].contains("test_accuracy_tta"));
  EXPECT_EQ(lines[2]["tta_views"], 3);
  EXPECT_TRUE(fs::exists(fs::path(run) / "best.pt"));
  auto csv = read_file(run + "/metrics.csv");
  EXPECT_EQ(csv.rfind("epoch,train_loss,train_accuracy,val_loss,val_accuracy,ema_val_loss,ema_val_accuracy,lr,", 0), 0u)
      << csv;

  json final_doc = json::parse(read_file(run + "/final.json"));
  EXPECT_EQ(final_doc["weights"], "ema");
  EXPECT_EQ(final_doc["monitoring_split"], "validation");
  ASSERT_TRUE(final_doc["test"].contains("tta"));
  ASSERT_TRUE(final_doc["test_other_weights"].contains("raw"));
  // evaluate last.pt: the EMA weights by default (as final.json), the raw ones on request, TTA as configured.
  json ema = evaluate_json({"--checkpoint", run + "/last.pt"});
  EXPECT_EQ(ema["weights"], "ema");
  EXPECT_NEAR(ema["accuracy"].get<double>(), final_doc["test"]["accuracy"].get<double>(), 1e-12);
  EXPECT_NEAR(ema["tta"]["accuracy"].get<double>(), final_doc["test"]["tta"]["accuracy"].get<double>(), 1e-12);
  json raw = evaluate_json({"--checkpoint", run + "/last.pt", "--weights", "raw", "--tta", "none"});
  EXPECT_EQ(raw["weights"], "raw");
  EXPECT_FALSE(raw.contains("tta"));
  EXPECT_NEAR(raw["accuracy"].get<double>(), final_doc["test_other_weights"]["raw"]["accuracy"].get<double>(), 1e-12);
  // A run directory: best.pt, chosen on the validation split, and said so.
  json best = evaluate_json({"--checkpoint", run});
  EXPECT_EQ(best["checkpoint"], run + "/best.pt");
  EXPECT_NE(best["checkpoint_reason"].get<std::string>().find("highest validation accuracy"), std::string::npos);
  auto bad = run_cli({"evaluate", "--checkpoint", run, "--weights", "swa"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--weights swa: " + run + "/best.pt holds no weight set 'swa'; it holds raw, ema"),
            std::string::npos)
      << bad.err;
}

TEST_F(RecipeCli, ResumeContinuesTheAverageExactly) {
  TempDir dir;
  json training = {{"epochs", 2}, {"batch_size", 100}, {"seed", 4}, {"optimizer", {{"type", "sgd"}, {"lr", 0.05}}},
                   {"ema", {{"mode", "lookahead"}, {"every", 2}}}};
  std::string cfg = dir.write("t.json", tiny(training, 0.0).dump());
  ASSERT_EQ(run_cli({"train", "--config", cfg, "--run-dir", dir.str("full"), "-q"}).exit_code, 0);
  ASSERT_EQ(run_cli({"train", "--config", cfg, "--run-dir", dir.str("part"), "-q", "--set", "training.epochs=1"})
                .exit_code,
            0);
  // (Without warmup_power: the average's ramp depends on the run's length, which --set changes.)
  auto resumed = run_cli({"train", "--resume", dir.str("part"), "-q", "--set", "training.epochs=2"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  json a = json::parse(read_file(dir.str("full/final.json")));
  json b = json::parse(read_file(dir.str("part/final.json")));
  EXPECT_NEAR(a["test"]["loss"].get<double>(), b["test"]["loss"].get<double>(), 1e-6);
}
