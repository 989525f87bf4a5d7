// The file-writing observers: run files, metrics, checkpoints, curves and --json events.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <sstream>

#include "cnnkit/train/observer.h"
#include "cnnkit/train/observers/json_events.h"
#include "support/cli.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using namespace cnnkit::test;
namespace fs = std::filesystem;

namespace {

std::unique_ptr<TrainingRun> file_run(const TempDir& dir) {
  auto run = std::make_unique<TrainingRun>();
  run->config =
      resolve_doc(model_doc({{{"type", "flatten"}}, {{"type", "dense"}, {"units", 2}}}, 1, 2, 2), "tiny.json");
  run->tc = TrainingConfig::from(run->config);
  run->model = build_model(run->config);
  run->data.class_names = {"a", "b"};
  run->data.normalization = Normalization{{0.5}, {0.25}};
  run->gen = at::detail::createCPUGenerator(1);
  run->run_dir = dir.str("run");
  fs::create_directories(run->run_dir);
  return run;
}

json row(int epoch, double acc) {
  return {{"epoch", epoch},          {"train_loss", 1.0 / epoch}, {"train_accuracy", acc},
          {"val_loss", 1.2 / epoch}, {"val_accuracy", acc},       {"lr", 0.01},
          {"seconds", 2.0},          {"images_per_second", 100.0}};
}

void end_epoch(const std::vector<std::unique_ptr<TrainingObserver>>& obs, TrainingRun& run, double acc, bool best) {
  static const EvalResult val;
  run.state.epoch += 1;
  run.history.push_back(row(run.state.epoch, acc));
  for (auto& o : obs) o->on_epoch_end(run, EpochReport{run.state.epoch, run.history.back(), val, best});
}

std::vector<std::unique_ptr<TrainingObserver>> make(const TrainingRun& run, std::initializer_list<const char*> names) {
  std::vector<std::unique_ptr<TrainingObserver>> out;
  for (const char* n : names) out.push_back(observer_registry().get(n).make(run));
  return out;
}

}  // namespace

TEST(Observers, RunFilesWriteConfigSummaryMetricsAndFinal) {
  TempDir dir;
  auto run = file_run(dir);
  auto obs = make(*run, {"run_files"});
  obs[0]->on_train_begin(*run);
  const fs::path d(run->run_dir);
  EXPECT_EQ(json::parse(read_file((d / "config.json").string()))["name"], "tiny");
  EXPECT_EQ(json::parse(read_file((d / "summary.json").string()))["total_params"], 4 * 2 + 2);
  EXPECT_NE(read_file((d / "summary.txt").string()).find("dense"), std::string::npos);
  end_epoch(obs, *run, 0.5, true);
  end_epoch(obs, *run, 0.7, true);
  std::string csv = read_file((d / "metrics.csv").string());
  EXPECT_EQ(csv.rfind("epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,images_per_second\n", 0), 0u);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);
  std::string jsonl = read_file((d / "metrics.jsonl").string());
  EXPECT_EQ(std::count(jsonl.begin(), jsonl.end(), '\n'), 2);
  EvalResult test;
  obs[0]->on_train_end(*run, FinalReport{json{{"epochs", 2}}, test});
  EXPECT_EQ(json::parse(read_file((d / "final.json").string()))["epochs"], 2);
}

TEST(Observers, CheckpointsKeepLastAndBestAndSaveOnInterrupt) {
  TempDir dir;
  auto run = file_run(dir);
  auto obs = make(*run, {"checkpoints"});
  end_epoch(obs, *run, 0.5, true);
  ASSERT_TRUE(fs::exists(run->best_checkpoint()));
  end_epoch(obs, *run, 0.4, false);
  EXPECT_EQ(read_checkpoint(run->best_checkpoint()).meta["epoch"], 1);
  EXPECT_EQ(read_checkpoint(run->last_checkpoint()).meta["epoch"], 2);
  EXPECT_EQ(read_checkpoint(run->last_checkpoint()).meta["history"].size(), 2u);
  run->state.partial.batch = 3;
  run->state.partial.perm = torch::arange(10);
  obs[0]->on_interrupt(*run, InterruptEvent{2, 3, 3});
  LoadedCheckpoint ck = read_checkpoint(run->last_checkpoint());
  EXPECT_EQ(ck.meta["train_state"]["partial"]["batch"], 3);
  EXPECT_EQ(ck.tensors.count("perm"), 1u);
}

TEST(Observers, CurvesAreRedrawnEveryEpoch) {
  TempDir dir;
  auto run = file_run(dir);
  auto obs = make(*run, {"curves"});
  end_epoch(obs, *run, 0.5, true);
  end_epoch(obs, *run, 0.6, true);
  std::string png = read_file(run->run_dir + "/curves.png");
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
}

TEST(Observers, JsonEventsWriteOneLinePerEpochToTheGivenStream) {
  TempDir dir;
  auto run = file_run(dir);
  std::ostringstream out;
  std::vector<std::unique_ptr<TrainingObserver>> obs;
  obs.push_back(std::make_unique<JsonEventsObserver>(out));
  end_epoch(obs, *run, 0.5, true);
  end_epoch(obs, *run, 0.6, false);
  std::istringstream in(out.str());
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    json j = json::parse(line);
    EXPECT_EQ(j["event"], "epoch");
    EXPECT_EQ(j["epoch"], ++n);
  }
  EXPECT_EQ(n, 2);
}

TEST(Observers, OtherRanksKeepOnlyThePolicies) {
  TempDir dir;
  auto run = file_run(dir);
  json doc = run->config.resolved();
  doc["training"]["early_stopping"] = true;
  run->config = resolve_doc(doc, "tiny.json");
  run->tc = TrainingConfig::from(run->config);
  run->has_validation = true;  // early stopping watches val_loss
  std::ostringstream out;
  std::vector<std::unique_ptr<TrainingObserver>> extra;
  extra.push_back(std::make_unique<JsonEventsObserver>(out));
  ObserverList others(*run, std::move(extra), /*rank0=*/false);
  int count = 0;
  others.each([&](TrainingObserver& o) {
    ++count;
    EXPECT_FALSE(o.rank0_only());
  });
  EXPECT_EQ(count, 1);  // early stopping only
  ObserverList rank0(*run, {}, /*rank0=*/true);
  count = 0;
  rank0.each([&](TrainingObserver&) { ++count; });
  EXPECT_EQ(count, 5);  // early stopping, run files, checkpoints, curves, progress
}
