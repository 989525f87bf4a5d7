// steps.csv: the step-level training log (train/step_log.h) and its observer.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "cnnkit/train/observer.h"
#include "cnnkit/train/step_log.h"
#include "support/cli.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using namespace cnnkit::test;
namespace fs = std::filesystem;

namespace {

std::unique_ptr<TrainingRun> step_run(const TempDir& dir, int epochs, std::int64_t steps) {
  auto run = std::make_unique<TrainingRun>();
  run->config = resolve_doc(model_doc({{{"type", "flatten"}}, {{"type", "dense"}, {"units", 2}}}, 1, 2, 2), "tiny.json");
  run->tc = TrainingConfig::from(run->config);
  run->tc.epochs = epochs;
  run->steps_per_epoch = steps;
  run->model = build_model(run->config);
  run->gen = at::detail::createCPUGenerator(1);
  run->run_dir = dir.str("run");
  fs::create_directories(run->run_dir);
  return run;
}

// Runs `epochs` epochs of `steps` batches of 4 images whose loss is the step number.
void train(TrainingObserver& o, TrainingRun& run, int first_epoch, int epochs) {
  static const EvalResult val;
  for (int epoch = first_epoch; epoch < first_epoch + epochs; ++epoch) {
    EpochMeter meter;
    meter.reset(c10::Device(c10::kCPU), run.state.partial);
    o.on_epoch_begin(run, epoch);
    for (std::int64_t b = 1; b <= run.steps_per_epoch; ++b) {
      ++run.state.step;
      auto logits = torch::tensor({{1.f, 0.f}, {1.f, 0.f}, {0.f, 1.f}, {0.f, 1.f}});
      meter.add(torch::tensor(static_cast<float>(run.state.step)), logits, torch::tensor({0, 1, 1, 1}, torch::kInt64));
      o.on_step_end(run, StepEvent{epoch, b, meter});
    }
    run.state.epoch = epoch;
    o.on_epoch_end(run, EpochReport{epoch, json::object(), val, false});
  }
}

}  // namespace

TEST(StepLog, CsvRoundTripsAndSkipsForeignLines) {
  TempDir dir;
  std::vector<StepRow> rows = {{10, 0.5, 640, 1.25, 0.5, 1e-3}, {20, 1.0, 640, 0.75, 0.75, 5e-4}};
  write_step_log(dir.str("steps.csv"), rows);
  auto back = read_step_log(dir.str("steps.csv"));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].step, 20);
  EXPECT_DOUBLE_EQ(back[1].loss, 0.75);
  EXPECT_DOUBLE_EQ(back[0].lr, 1e-3);
  EXPECT_TRUE(read_step_log(dir.str("missing.csv")).empty());
  dir.write("odd.csv", "step,epoch,images,loss,accuracy,lr\n1,0.1,4,2,0.5,0.1\nnot a row\n2,0.2,4,1,0.5,0.1\n");
  EXPECT_EQ(read_step_log(dir.str("odd.csv")).size(), 2u);
  dir.write("other.csv", "epoch,loss\n1,2\n");
  EXPECT_TRUE(read_step_log(dir.str("other.csv")).empty());
}

TEST(StepLog, MergingPairsWeighsByImages) {
  std::vector<StepRow> rows = {{1, 0.1, 100, 2.0, 0.0, 0.1}, {2, 0.2, 300, 1.0, 1.0, 0.2}, {3, 0.3, 50, 9.0, 0.0, 0.3}};
  merge_step_pairs(rows);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].step, 2);
  EXPECT_EQ(rows[0].images, 400);
  EXPECT_DOUBLE_EQ(rows[0].loss, (2.0 * 100 + 1.0 * 300) / 400);
  EXPECT_DOUBLE_EQ(rows[0].accuracy, 0.75);
  EXPECT_DOUBLE_EQ(rows[0].lr, 0.2);
  EXPECT_EQ(rows[1].step, 3);  // the odd one stays
}

TEST(StepLog, ObserverLogsEveryStepOfAShortRunAndEndsEachEpoch) {
  TempDir dir;
  auto run = step_run(dir, 2, 5);
  auto o = observer_registry().get("step_log").make(*run);
  o->on_train_begin(*run);
  train(*o, *run, 1, 2);
  auto rows = read_step_log((fs::path(run->run_dir) / "steps.csv").string());
  ASSERT_EQ(rows.size(), 10u);
  EXPECT_EQ(rows[0].step, 1);
  EXPECT_EQ(rows[0].images, 4);
  EXPECT_DOUBLE_EQ(rows[0].loss, 1.0);  // the mean over the interval, not the running mean
  EXPECT_DOUBLE_EQ(rows[3].loss, 4.0);
  EXPECT_DOUBLE_EQ(rows[0].accuracy, 0.75);
  EXPECT_DOUBLE_EQ(rows[4].epoch, 1.0);
  EXPECT_DOUBLE_EQ(rows[5].epoch, 1.2);
  EXPECT_DOUBLE_EQ(rows[9].epoch, 2.0);
}

TEST(StepLog, ObserverStaysBoundedOnALongRun) {
  TempDir dir;
  auto run = step_run(dir, 3, 1500);  // 4,500 steps planned
  auto o = observer_registry().get("step_log").make(*run);
  o->on_train_begin(*run);
  train(*o, *run, 1, 3);
  auto rows = read_step_log((fs::path(run->run_dir) / "steps.csv").string());
  EXPECT_LE(rows.size(), kMaxStepRows);
  EXPECT_GE(rows.size(), kMaxStepRows / 4);
  std::int64_t images = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    images += rows[i].images;
    if (i) EXPECT_GT(rows[i].step, rows[i - 1].step);
  }
  EXPECT_EQ(images, 3 * 1500 * 4);  // every image counted once
  EXPECT_EQ(rows.back().step, 4500);
  // Extending the run far beyond its plan merges rows instead of growing the file.
  run->tc.epochs = 12;
  train(*o, *run, 4, 9);
  rows = read_step_log((fs::path(run->run_dir) / "steps.csv").string());
  EXPECT_LE(rows.size(), kMaxStepRows);
  EXPECT_EQ(rows.back().step, 12 * 1500);
}

TEST(StepLog, ResumeKeepsTheRowsUpToTheCheckpoint) {
  TempDir dir;
  auto run = step_run(dir, 2, 5);
  {
    auto o = observer_registry().get("step_log").make(*run);
    o->on_train_begin(*run);
    train(*o, *run, 1, 2);
  }
  // A resume from the checkpoint after epoch 1 (5 steps): rows of epoch 2 are dropped and
  // written again.
  run->state.step = 5;
  run->state.epoch = 1;
  auto o = observer_registry().get("step_log").make(*run);
  o->on_train_begin(*run);
  train(*o, *run, 2, 1);
  auto rows = read_step_log((fs::path(run->run_dir) / "steps.csv").string());
  ASSERT_EQ(rows.size(), 10u);
  for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].step, static_cast<std::int64_t>(i + 1));
}
