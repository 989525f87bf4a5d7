// `cnnkit runs`: rows read from run directories in every state (finished, interrupted,
// running with its lock held, failed, damaged, written before status.json existed), and the
// run-status observer that keeps status.json, the lock and the `latest` link.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cnnkit/core/error.h"
#include "cnnkit/train/observer.h"
#include "cnnkit/train/run_dir.h"
#include "cnnkit/train/run_index.h"
#include "support/cli.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using namespace cnnkit::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json metrics_row(int epoch, double val, double seconds, double ips) {
  return {{"epoch", epoch},  {"train_loss", 1.0}, {"train_accuracy", 0.5}, {"val_loss", 1.0}, {"val_accuracy", val},
          {"lr", 0.01},      {"seconds", seconds}, {"images_per_second", ips}};
}

// A run directory as train leaves it; `status` "" writes no status.json (older runs).
fs::path make_run(const fs::path& parent, const std::string& name, const std::string& status, int epochs_done,
                  bool final_json, const std::string& started = "2024-05-01T10:00:00+0000") {
  const fs::path d = parent / name;
  fs::create_directories(d);
  std::ofstream(d / "config.json") << json{{"name", "tiny"}, {"training", {{"epochs", 3}, {"precision", "bf16"}}}}.dump();
  std::ofstream m(d / "metrics.jsonl");
  const double vals[] = {0.5, 0.8, 0.7};
  for (int e = 1; e <= epochs_done; ++e) m << metrics_row(e, vals[e - 1], 10.0 * e, 100.0 * e).dump() << "\n";
  m.close();
  std::ofstream(d / "last.pt") << "x";
  if (final_json) std::ofstream(d / "final.json") << json{{"epochs", epochs_done}, {"test", {{"accuracy", 0.75}}}}.dump();
  if (!status.empty())
    write_run_status(d.string(), {{"status", status}, {"started", started}, {"wall_seconds", 42.0}});
  return d;
}

RunRow row_named(const std::vector<RunRow>& rows, const std::string& name) {
  for (const auto& r : rows)
    if (r.name == name) return r;
  ADD_FAILURE() << "no row " << name;
  return {};
}

}  // namespace

TEST(RunIndex, FinishedRunHasEveryFigure) {
  TempDir dir;
  const auto r = read_run(make_run(dir.path(), "done", "finished", 3, true).string());
  EXPECT_EQ(r.name, "done");
  EXPECT_EQ(r.config, "tiny");
  EXPECT_EQ(r.status, "finished");
  EXPECT_EQ(r.epochs_done, 3);
  EXPECT_EQ(r.epochs_planned, 3);
  ASSERT_TRUE(r.best_val_accuracy);
  EXPECT_DOUBLE_EQ(*r.best_val_accuracy, 0.8);
  EXPECT_EQ(r.best_epoch, 2);
  EXPECT_DOUBLE_EQ(*r.test_accuracy, 0.75);
  EXPECT_DOUBLE_EQ(*r.wall_seconds, 42.0);
  EXPECT_DOUBLE_EQ(*r.train_seconds, 60.0);
  // Images over time: (10*100 + 20*200 + 30*300) / 60 s.
  EXPECT_DOUBLE_EQ(*r.images_per_second, 14000.0 / 60.0);
  EXPECT_EQ(r.precision, "bf16");
  EXPECT_EQ(r.started, "2024-05-01T10:00:00+0000");
  EXPECT_EQ(r.problem, "");
  const json j = r.to_json();
  EXPECT_EQ(j["status"], "finished");
  EXPECT_EQ(j["best_epoch"], 2);
  EXPECT_FALSE(j.contains("problem"));
}

TEST(RunIndex, InterruptedRunningFailedAndOlderRuns) {
  TempDir dir;
  make_run(dir.path(), "stopped", "interrupted", 1, false, "2024-05-01T10:00:01+0000");
  const fs::path running = make_run(dir.path(), "busy", "running", 2, false, "2024-05-01T10:00:02+0000");
  make_run(dir.path(), "died", "running", 1, false, "2024-05-01T10:00:03+0000");  // no lock held: it died
  make_run(dir.path(), "legacy-done", "", 3, true);
  make_run(dir.path(), "legacy-stopped", "", 1, false);
  fs::create_directories(dir.path() / "not-a-run");  // e.g. a featuremaps folder
  fs::create_directory_symlink("busy", dir.path() / "latest");
  RunDirLock lock(running.string());  // the training process
  const auto rows = index_runs(dir.str());
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(row_named(rows, "stopped").status, "interrupted");
  EXPECT_EQ(row_named(rows, "busy").status, "running");
  EXPECT_GE(*row_named(rows, "busy").wall_seconds, 42.0);
  EXPECT_EQ(row_named(rows, "died").status, "failed");
  EXPECT_EQ(row_named(rows, "legacy-done").status, "finished");
  EXPECT_EQ(row_named(rows, "legacy-stopped").status, "interrupted");
  EXPECT_FALSE(row_named(rows, "stopped").test_accuracy.has_value());
  // Oldest start first (the older runs' start is their config.json's time: now).
  EXPECT_EQ(rows[0].name, "stopped");
  EXPECT_EQ(rows[1].name, "busy");
  EXPECT_EQ(rows[2].name, "died");
  // A run directory given directly is listed alone.
  const auto one = index_runs(running.string());
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].status, "running");
}

TEST(RunIndex, DamagedRunsAreRowsNotErrors) {
  TempDir dir;
  const fs::path p = dir.path();
  make_run(p, "bad-config", "finished", 1, true);
  std::ofstream(p / "bad-config" / "config.json") << "{ truncated";
  make_run(p, "bad-metrics", "finished", 2, true);
  std::ofstream(p / "bad-metrics" / "metrics.jsonl", std::ios::app) << "{\"epoch\": 3, \"val_acc\n";
  make_run(p, "bad-status", "finished", 1, true);
  std::ofstream(p / "bad-status" / "status.json") << R"({"status": "exploded"})";
  make_run(p, "bad-final", "finished", 1, true);
  std::ofstream(p / "bad-final" / "final.json") << "[]";
  fs::create_directories(p / "only-checkpoint");
  std::ofstream(p / "only-checkpoint" / "best.pt") << "x";
  const auto rows = index_runs(p.string());
  ASSERT_EQ(rows.size(), 5u);
  for (const auto& r : rows) EXPECT_EQ(r.status, "damaged") << r.name;
  EXPECT_EQ(row_named(rows, "bad-config").problem, "config.json is not valid JSON");
  EXPECT_EQ(row_named(rows, "bad-metrics").problem, "metrics.jsonl line 3 is not valid JSON");
  EXPECT_EQ(row_named(rows, "bad-status").problem, "status.json: unknown status 'exploded'");
  EXPECT_EQ(row_named(rows, "bad-final").problem, "final.json has no test accuracy");
  EXPECT_EQ(row_named(rows, "only-checkpoint").problem, "no config.json");
  EXPECT_EQ(row_named(rows, "bad-config").to_json()["problem"], "config.json is not valid JSON");
}

TEST(RunIndex, AFolderThatIsNotThereIsAUsageError) {
  TempDir dir;
  EXPECT_THROW(index_runs(dir.str("nowhere")), UsageError);
  EXPECT_TRUE(index_runs(dir.str()).empty());
}

TEST(RunIndexCli, TableAndJsonWithALockHeldByAnotherProcess) {
  TempDir dir;
  make_run(dir.path(), "done", "finished", 3, true);
  const fs::path busy = make_run(dir.path(), "busy", "running", 1, false, "2024-05-01T11:00:00+0000");
  make_run(dir.path(), "broken", "finished", 1, true);
  std::ofstream(dir.path() / "broken" / "config.json") << "nope";
  RunDirLock lock(busy.string());  // held by this process; the cnnkit process sees it held

  auto r = run_cli({"runs", dir.str()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("RUN ", 0), 0u) << r.out;
  for (const char* s : {"STATUS", "BEST VAL", "IMAGES/S", "finished", "running", "damaged", "3/3", "80.00% (2)",
                        "75.00%", "bf16", "2024-05-01 10:00", "broken: damaged: config.json is not valid JSON"})
    EXPECT_NE(r.out.find(s), std::string::npos) << "missing '" << s << "' in\n" << r.out;

  auto j = run_cli({"runs", dir.str(), "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const json rows = json::parse(j.out);
  ASSERT_EQ(rows.size(), 3u);
  std::map<std::string, std::string> status;
  for (const auto& row : rows) status[row["name"]] = row["status"];
  EXPECT_EQ(status["done"], "finished");
  EXPECT_EQ(status["busy"], "running");
  EXPECT_EQ(status["broken"], "damaged");

  auto missing = run_cli({"runs", dir.str("nowhere")});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nowhere: no such folder"), std::string::npos) << missing.err;
  TempDir empty;
  auto none = run_cli({"runs", empty.str()});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_EQ(none.out, "no runs in " + empty.str() + "\n");
  // Nothing trained here yet: no ./runs is not an error; a folder that was named is.
  auto fresh = run_cli_in(empty.str(), {"runs"});
  EXPECT_EQ(fresh.exit_code, 0) << fresh.err;
  EXPECT_EQ(fresh.out, "no runs in ./runs yet (cnnkit train --config NAME writes them there)\n");
  auto named = run_cli_in(empty.str(), {"runs", "runs"});
  EXPECT_EQ(named.exit_code, 2);
  EXPECT_NE(named.err.find("runs: no such folder"), std::string::npos) << named.err;
}

// ---- the run-status observer

namespace {

std::unique_ptr<TrainingRun> status_run(const TempDir& dir) {
  auto run = std::make_unique<TrainingRun>();
  run->config = resolve_doc(model_doc({{{"type", "flatten"}}, {{"type", "dense"}, {"units", 2}}}, 1, 2, 2), "tiny.json");
  run->tc = TrainingConfig::from(run->config);
  run->run_dir = dir.str("runs/tiny-1");
  fs::create_directories(run->run_dir);
  return run;
}

std::string status_of(const TrainingRun& run) { return (*read_run_status(run.run_dir))["status"]; }

}  // namespace

// The lock itself is train_model's (RunDirLock, tests/train/run_dir_test.cpp); the observer
// only writes what the run's state is.
TEST(RunStatusObserver, RunningThenFinished) {
  TempDir dir;
  auto run = status_run(dir);
  {
    auto obs = observer_registry().get("run_status").make(*run);
    obs->on_train_begin(*run);
    EXPECT_EQ(status_of(*run), "running");
    EXPECT_EQ(fs::read_symlink(dir.path() / "runs" / "latest"), "tiny-1");
    EvalResult test;
    obs->on_train_end(*run, FinalReport{json::object(), test});
    EXPECT_EQ(status_of(*run), "finished");
  }
  const json s = *read_run_status(run->run_dir);
  EXPECT_TRUE(s.contains("ended"));
  EXPECT_GE(s["wall_seconds"].get<double>(), 0.0);
}

TEST(RunStatusObserver, InterruptedAndFailedRunsSaySo) {
  TempDir dir;
  auto run = status_run(dir);
  {
    auto obs = observer_registry().get("run_status").make(*run);
    obs->on_train_begin(*run);
    obs->on_interrupt(*run, InterruptEvent{2, 1, 5});
  }
  EXPECT_EQ(status_of(*run), "interrupted");
  const std::string started = (*read_run_status(run->run_dir))["started"];
  // Resumed, then ended by an exception (e.g. a non-finite loss).
  try {
    auto obs = observer_registry().get("run_status").make(*run);
    obs->on_train_begin(*run);
    throw TrainingError("loss is NaN");
  } catch (const TrainingError&) {
  }
  const json s = *read_run_status(run->run_dir);
  EXPECT_EQ(s["status"], "failed");
  EXPECT_EQ(s["started"], started);  // the first start is kept across resumes
  EXPECT_EQ(s["sessions"], 2);
}
