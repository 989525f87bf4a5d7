// Run directories: unique default names, safe names, one process at a time (the lock), and
// the status file and `latest` link that `cnnkit runs` and the commands that default to the
// latest run rely on.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "cnnkit/core/error.h"
#include "cnnkit/train/run_dir.h"
#include "support/cli.h"

using namespace cnnkit;
using namespace cnnkit::test;
namespace fs = std::filesystem;

TEST(RunDir, DefaultNamesAreUniqueWithinOneSecondAndStayUnderRuns) {
  TempDir dir;
  ScopedCwd in(dir.path());
  const std::string a = create_default_run_dir("mnist"), b = create_default_run_dir("mnist");
  EXPECT_NE(a, b);
  EXPECT_TRUE(fs::is_directory(a));
  EXPECT_TRUE(fs::is_directory(b));
  const std::string evil = create_default_run_dir("../../etc/x");
  EXPECT_EQ(evil.rfind("runs/", 0), 0u) << evil;
  EXPECT_EQ(evil.find(".."), std::string::npos) << evil;
  EXPECT_EQ(evil.find('/', 5), std::string::npos) << evil;
}

TEST(RunDir, OneProcessAtATime) {
  TempDir dir;
  EXPECT_FALSE(RunDirLock::held(dir.str()));
  {
    RunDirLock lock(dir.str());
    // Another process cannot take it, and is told who holds it.
    pid_t pid = fork();
    if (pid == 0) {
      try {
        RunDirLock second(dir.str());
      } catch (const Error& e) {
        _exit(std::string(e.what()).find("another cnnkit process (pid " + std::to_string(getppid()) + ")") !=
                      std::string::npos
                  ? 5
                  : 6);
      }
      _exit(7);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_EQ(WEXITSTATUS(status), 5);
    pid = fork();
    if (pid == 0) _exit(RunDirLock::held(dir.str()) ? 1 : 0);
    waitpid(pid, &status, 0);
    EXPECT_EQ(WEXITSTATUS(status), 1);
  }
  EXPECT_FALSE(RunDirLock::held(dir.str()));
  RunDirLock again(dir.str());  // released with its owner
}

TEST(RunDir, HoldsRunLooksForItsFiles) {
  TempDir dir;
  EXPECT_FALSE(holds_run(dir.str()));
  dir.write("notes.txt", "mine");
  EXPECT_FALSE(holds_run(dir.str()));
  dir.write("last.pt", "x");
  EXPECT_TRUE(holds_run(dir.str()));
}

TEST(RunDir, TheLockTestNeverCreatesTheLockFile) {
  TempDir dir;
  EXPECT_FALSE(RunDirLock::held(dir.str()));
  EXPECT_FALSE(fs::exists(dir.path() / RunDirLock::kFileName)) << "testing the lock must not create it";
  {
    RunDirLock lock(dir.str());
    EXPECT_TRUE(RunDirLock::held(dir.str()));  // in this process too: `cnnkit runs` in a test
    EXPECT_EQ(read_file((dir.path() / RunDirLock::kFileName).string()), std::to_string(getpid()) + "\n");
  }
  EXPECT_FALSE(RunDirLock::held(dir.str()));
}

TEST(RunDir, ALockInAFolderThatCannotHoldItIsAnError) {
  TempDir dir;
  try {
    RunDirLock lock(dir.str("missing/run"));
    ADD_FAILURE() << "a lock was granted in a missing folder";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing/run/.lock: cannot create the run's lock file"), std::string::npos)
        << e.what();
  }
}

TEST(RunDir, OverwriteClearsTheStatusFileToo) {
  const auto& names = run_file_names();
  EXPECT_NE(std::find(names.begin(), names.end(), kRunStatusFile), names.end());
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
