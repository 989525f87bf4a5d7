// The --nproc launcher, with copies of this test binary as workers (DistWorker.LauncherChild).
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>

#include "cnnkit/core/error.h"
#include "cnnkit/dist/local_launcher.h"
#include "dist/dist_support.h"
#include "support/cli.h"

using namespace cnnkit;
using namespace cnnkit::dist;
using namespace cnnkit::test::dist;
using namespace std::chrono_literals;

namespace {

LocalLaunchOptions children(const test::TempDir& dir, const std::string& mode) {
  LocalLaunchOptions o;
  o.nproc = 2;
  o.args = {self_executable(), "--gtest_brief=1", "--gtest_filter=DistWorker.LauncherChild"};
  o.extra_env = {{"CNNKIT_TEST_WORKER_DIR", dir.str()}, {"CNNKIT_TEST_WORKER_ARGS", "mode=" + mode}};
  return o;
}

// Runs DistWorker.Launcher in its own process (so that it can be sent signals) and returns its pid.
int spawn_launcher(const test::TempDir& dir, const std::string& args) {
  return spawn_process({self_executable(), "--gtest_brief=1", "--gtest_filter=DistWorker.Launcher"},
                       {"CNNKIT_TEST_WORKER_DIR=" + dir.str(), "CNNKIT_TEST_WORKER_ARGS=" + args},
                       dir.str("launcher.log"));
}

}  // namespace

TEST(DistLauncher, StartsWorkersThatFindEachOther) {
  test::TempDir dir("cnnkit-nproc");
  auto result = run_local_workers(children(dir, "sum"));
  EXPECT_EQ(result.exit_code, 0) << read_text(dir.str("worker0.log"));
  EXPECT_EQ(result.first_failed_rank, -1);
  ASSERT_EQ(result.workers.size(), 2u);
  EXPECT_GT(result.master_port, 0);
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(result.workers[r].status, 0);
    EXPECT_EQ(read_text(dir.str("sum" + std::to_string(r))), "3");
  }
  EXPECT_EQ(read_text(dir.str("launch1")),
            "rank 1 of 2 (local 1 of 2, cnnkit --nproc, store 127.0.0.1:" + std::to_string(result.master_port) +
                " served by the launcher under /cnnkit/nproc)");
}

TEST(DistLauncher, AFailingWorkerStopsTheOthersAndGivesItsExitCode) {
  test::TempDir dir("cnnkit-nproc");
  auto result = run_local_workers(children(dir, "fail"));
  EXPECT_EQ(result.exit_code, 3);
  EXPECT_EQ(result.first_failed_rank, 1);
  EXPECT_FALSE(result.interrupted);
  EXPECT_EQ(result.workers[1].status, 3);
  EXPECT_NE(result.workers[0].status, 0);  // terminated while waiting for rank 1
}

// One run, two interrupts: SIGINT to rank 1 alone (the ranks agree and stop at the same step),
// then SIGINT to the launcher (forwarded to both; they stop at the same step and exit 130).
TEST(DistLauncher, InterruptsStopEveryRankAtTheSameStepAndTheLauncherExits130) {
  test::TempDir dir("cnnkit-nproc");
  int pid = spawn_launcher(dir, "mode=stop");
  struct KillOnFailure {  // an ASSERT below must not leave the launcher (and its workers) behind
    int pid;
    ~KillOnFailure() {
      if (pid > 0) wait_process(pid, 0s);
    }
  } guard{pid};
  auto log = [&] { return read_text(dir.str("launcher.log")); };
  ASSERT_TRUE(wait_for_file(dir.str("ready1_0"), 60s) && wait_for_file(dir.str("ready1_1"), 60s)) << log();
  kill(std::stoi(read_text(dir.str("ready1_1"))), SIGINT);  // rank 1 only
  ASSERT_TRUE(wait_for_file(dir.str("ready2_0"), 60s) && wait_for_file(dir.str("ready2_1"), 60s)) << log();
  EXPECT_EQ(read_text(dir.str("stop1_0")), read_text(dir.str("stop1_1")));
  kill(pid, SIGINT);  // the launcher: forwarded to every worker
  EXPECT_EQ(wait_process(pid, 60s), 130) << log();
  guard.pid = -1;
  EXPECT_EQ(read_text(dir.str("launcher")), "exit=130 interrupted=1 first_failed=-1 statuses=130 130 ");
  EXPECT_EQ(read_text(dir.str("stop2_0")), read_text(dir.str("stop2_1")));
}

TEST(DistLauncher, RefusesToRunUnderAnotherLauncher) {
  setenv("RANK", "0", 1);
  setenv("WORLD_SIZE", "1", 1);
  LocalLaunchOptions o;
  o.nproc = 2;
  o.args = {"x"};
  try {
    run_local_workers(o);
    ADD_FAILURE();
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()),
              "--nproc 2: this process already runs under env RANK/WORLD_SIZE (rank 0 of 1 (env RANK/WORLD_SIZE)); use "
              "one launcher, not both");
  }
  unsetenv("RANK");
  unsetenv("WORLD_SIZE");
  o.nproc = 0;
  EXPECT_THROW(run_local_workers(o), UsageError);
}
