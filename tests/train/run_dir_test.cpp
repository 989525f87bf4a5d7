// The run directory's lock, status file and `latest` link: what `cnnkit runs` and the commands
// that default to the latest run rely on.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

#include "cnnkit/core/error.h"
#include "cnnkit/train/run_dir.h"
#include "support/cli.h"

using namespace cnnkit;
using namespace cnnkit::test;
namespace fs = std::filesystem;

TEST(RunLock, HeldWhileTheObjectLivesAndRefusedToASecondTaker) {
  TempDir dir;
  const std::string run = dir.str("run");
  fs::create_directories(run);
  EXPECT_FALSE(run_is_locked(run));
  EXPECT_FALSE(fs::exists(run_lock_path(run))) << "testing the lock must not create it";
  {
    RunLock lock(run);
    EXPECT_TRUE(run_is_locked(run));
    EXPECT_EQ(read_file(run_lock_path(run)), std::to_string(getpid()) + "\n");
    try {
      RunLock second(run);
      ADD_FAILURE() << "a second lock was granted";
    } catch (const TrainingError& e) {
      EXPECT_EQ(std::string(e.what()), run + ": run directory is in use (pid " + std::to_string(getpid()) +
                                           " is training it); choose another --run-dir");
    }
    EXPECT_TRUE(run_is_locked(run));
  }
  EXPECT_FALSE(run_is_locked(run));
  RunLock again(run);  // free again once released
  EXPECT_TRUE(run_is_locked(run));
}

TEST(RunLock, ALockInAFolderThatCannotHoldItIsATrainingError) {
  TempDir dir;
  EXPECT_THROW(RunLock(dir.str("missing/run")), TrainingError);
}

TEST(RunStatus, WrittenAndReadBack) {
  TempDir dir;
  EXPECT_FALSE(read_run_status(dir.str()).has_value());
  write_run_status(dir.str(), {{"status", "running"}, {"started", iso_time_now()}});
  auto s = read_run_status(dir.str());
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ((*s)["status"], "running");
  EXPECT_EQ((*s)["started"].get<std::string>().size(), std::string("2024-05-01T12:30:05+0200").size());
}

TEST(LatestRun, LinkPointsAtTheLastRunStartedAndIsReplacedAtomically) {
  TempDir dir;
  const fs::path runs = dir.path() / "runs";
  fs::create_directories(runs / "a");
  fs::create_directories(runs / "b");
  EXPECT_FALSE(latest_run(runs.string()).has_value());  // no link, no checkpoint
  ASSERT_TRUE(point_latest_at((runs / "a").string()));
  EXPECT_EQ(fs::read_symlink(runs / "latest"), "a");  // relative: the folder can move
  EXPECT_EQ(latest_run(runs.string()), (runs / "a").string());
  ASSERT_TRUE(point_latest_at((runs / "b/").string()));
  EXPECT_EQ(fs::read_symlink(runs / "latest"), "b");
  EXPECT_EQ(latest_run(runs.string()), (runs / "b").string());
  for (const auto& e : fs::directory_iterator(runs))
    EXPECT_EQ(e.path().filename().string().find(".latest.tmp"), std::string::npos) << "temporary link left behind";
  // Relative folder names give relative results, as commands print them.
  ScopedCwd in(dir.path());
  EXPECT_EQ(latest_run("runs"), "runs/b");
}

TEST(LatestRun, WithoutTheLinkTheNewestCheckpointWins) {
  TempDir dir;
  const fs::path runs = dir.path() / "runs";
  fs::create_directories(runs / "old");
  fs::create_directories(runs / "new");
  fs::create_directories(runs / "empty");
  std::ofstream(runs / "old" / "last.pt") << "x";
  std::ofstream(runs / "new" / "best.pt") << "x";
  fs::last_write_time(runs / "old" / "last.pt", fs::file_time_type::clock::now() - std::chrono::hours(1));
  EXPECT_EQ(latest_run(runs.string()), (runs / "new").string());
  // A dangling link (its run was deleted) is ignored.
  fs::create_directory_symlink("deleted", runs / "latest");
  EXPECT_EQ(latest_run(runs.string()), (runs / "new").string());
  EXPECT_FALSE(latest_run(dir.str("absent")).has_value());
}

TEST(LatestRun, AFileNamedLatestIsLeftAlone) {
  TempDir dir;
  fs::create_directories(dir.path() / "latest");  // somebody's run directory called "latest"
  fs::create_directories(dir.path() / "x");
  EXPECT_FALSE(point_latest_at(dir.str("x")));
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(dir.path() / "latest")));
  EXPECT_FALSE(point_latest_at(dir.str("latest")));  // a run named "latest" is not linked to itself
}
