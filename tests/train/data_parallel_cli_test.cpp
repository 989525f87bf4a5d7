// `cnnkit train` on several processes, through the real binary: --nproc, torchrun, a plain
// env:// launch; interrupts and resumes on another number of processes; a killed rank; bad
// launch environments. Small MNIST subsets keep each test short.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "dist/dist_support.h"
#include "support/cli.h"
#include "train/train_fixtures.h"

using namespace cnnkit::test;
namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

class DataParallelCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_mnist()) GTEST_SKIP() << "../shared/data/mnist not found";
  }
};

json final_of(const std::string& run) { return json::parse(read_file(run + "/final.json")); }

int lines_of(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

// The pid of the --nproc worker with RANK=rank among the children of `launcher`.
int worker_pid(int launcher, int rank) {
  for (int tries = 0; tries < 300; ++tries) {
    std::ifstream children("/proc/" + std::to_string(launcher) + "/task/" + std::to_string(launcher) + "/children");
    int pid = 0;
    while (children >> pid) {
      std::ifstream env("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
      std::string var;
      while (std::getline(env, var, '\0'))
        if (var == "RANK=" + std::to_string(rank)) return pid;
    }
    std::this_thread::sleep_for(100ms);
  }
  return -1;
}

bool wait_for(const fs::path& path, std::chrono::seconds limit) {
  for (auto end = std::chrono::steady_clock::now() + limit; std::chrono::steady_clock::now() < end;) {
    if (fs::exists(path)) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

}  // namespace

// One process, `--nproc 2` and torchrun reach the same accuracy band; --nproc 2 and torchrun,
// the same world size from the same seed, give the very same model. Rank 0 alone writes the
// run directory and stdout; rank 1 says nothing at the info level.
TEST_F(DataParallelCli, NprocAndTorchrunTrainLikeOneProcess) {
  TempDir dir;
  const std::string cfg = small_config(dir, R"({"epochs": 2, "batch_size": 50, "seed": 5})", 1000);
  auto one = run_cli({"train", "--config", cfg, "--run-dir", dir.str("one"), "--quiet"});
  ASSERT_EQ(one.exit_code, 0) << one.err;

  auto two = run_cli({"train", "--config", cfg, "--run-dir", dir.str("two"), "--nproc", "2", "--json"});
  ASSERT_EQ(two.exit_code, 0) << two.err;
  const auto events = json_lines(two.out);  // rank 0's: two epochs and the final line
  ASSERT_EQ(events.size(), 3u) << two.out;
  EXPECT_EQ(events[2]["event"], "final");
  EXPECT_NE(two.err.find("data parallel: rank 0 of 2 (local 0 of 2, cnnkit --nproc, store 127.0.0.1:"),
            std::string::npos)
      << two.err;
  EXPECT_NE(two.err.find("global batch 50 = 25 per process, 1 thread each"), std::string::npos) << two.err;
  EXPECT_EQ(two.err.find("[rank 1]"), std::string::npos) << two.err;
  const json d = final_of(dir.str("two"))["distributed"];
  EXPECT_EQ(d["world_size"], 2);
  EXPECT_EQ(d["launcher"], "cnnkit --nproc");
  EXPECT_EQ(d["global_batch"], 50);

  if (access("/usr/lib/python3/dist-packages/torch/distributed/run.py", F_OK) != 0) {
    GTEST_SKIP() << "Debian's python3-torch (torch.distributed.run) is not installed";
  }
  // Debian's torchrun (torch 1.13, Python 3.11) needs non-zero --redirects/--tee (docs/distributed.md).
  auto tr = run_command({"/usr/bin/python3",
                         "-m",
                         "torch.distributed.run",
                         "--nproc_per_node",
                         "2",
                         "--master_port",
                         std::to_string(cnnkit::test::dist::free_port()),
                         "--redirects",
                         "1",
                         "--tee",
                         "2",
                         "--log_dir",
                         dir.str("torchrun-logs"),
                         "--no_python",
                         binary(),
                         "train",
                         "--config",
                         cfg,
                         "--run-dir",
                         dir.str("torchrun")});
  ASSERT_EQ(tr.exit_code, 0) << tr.err;
  // Every rank was a client of torchrun's agent store.
  EXPECT_NE(tr.err.find(", torchrun, store 127.0.0.1:"), std::string::npos) << tr.err;
  EXPECT_NE(tr.err.find(" served by the launcher under /worker/attempt_0)"), std::string::npos) << tr.err;

  const double a1 = final_of(dir.str("one"))["test"]["accuracy"];
  const double a2 = final_of(dir.str("two"))["test"]["accuracy"];
  const json t3 = final_of(dir.str("torchrun"));
  EXPECT_EQ(t3["distributed"]["launcher"], "torchrun");
  EXPECT_GT(a1, 0.7);  // 0.796 with this seed
  EXPECT_NEAR(a2, a1, 0.05);
  EXPECT_EQ(t3["test"], final_of(dir.str("two"))["test"]);
}

// SIGTERM to rank 1 alone: both ranks stop at the same step, rank 0 saves, everything exits 130.
// The run then resumes mid-epoch on two processes (the same result as never stopping), and a
// copy of it on one process.
TEST_F(DataParallelCli, InterruptOnOneRankStopsAllThenResumesOnTwoOrOneProcesses) {
  TempDir dir;
  const std::string cfg = small_config(dir, R"({"epochs": 30, "batch_size": 50, "seed": 9})", 600);
  const std::string run = dir.str("run");
  const int launcher =
      spawn_cli({"train", "--config", cfg, "--run-dir", run, "--nproc", "2"}, dir.str("a.out"), dir.str("a.err"));
  const int rank1 = worker_pid(launcher, 1);
  ASSERT_GT(rank1, 0);
  ASSERT_TRUE(wait_for(fs::path(run) / "last.pt", 120s)) << read_file(dir.str("a.err"));
  kill(rank1, SIGTERM);
  ASSERT_EQ(wait_cli(launcher), 130) << read_file(dir.str("a.err"));
  const std::string err = read_file(dir.str("a.err"));
  std::smatch m;
  ASSERT_TRUE(std::regex_search(err, m, std::regex("interrupted by a signal to another rank at epoch (\\d+), batch")))
      << err;
  const std::string epochs = m[1];                                         // finish the interrupted epoch, then stop
  EXPECT_EQ(lines_of(err.substr(err.find("cnnkit: error: "))), 1) << err;  // rank 1 reports nothing
  fs::copy(run, dir.str("copy"), fs::copy_options::recursive);

  auto two = run_cli({"train", "--resume", run, "--nproc", "2", "--set", "training.epochs=" + epochs, "--quiet"});
  ASSERT_EQ(two.exit_code, 0) << two.err;
  auto one = run_cli({"train", "--resume", dir.str("copy"), "--set", "training.epochs=" + epochs});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_NE(one.err.find("resuming a run trained on 2 processes on 1"), std::string::npos) << one.err;
  EXPECT_EQ(final_of(dir.str("copy"))["distributed"]["world_size"], 1);
  EXPECT_EQ(lines_of(read_file(dir.str("copy/metrics.jsonl"))), std::stoi(epochs));

  // The same run without the interrupt: the resumed one continued it exactly.
  auto straight = run_cli({"train", "--config", cfg, "--run-dir", dir.str("straight"), "--nproc", "2", "--set",
                           "training.epochs=" + epochs, "--quiet"});
  ASSERT_EQ(straight.exit_code, 0) << straight.err;
  EXPECT_EQ(final_of(run)["test"], final_of(dir.str("straight"))["test"]);
}

// A plain env:// launch (rank 0 hosts the store); rank 1 is killed while training: rank 0 fails
// at once, with one line naming rank 1, not after the timeout.
TEST_F(DataParallelCli, AKilledRankMakesTheSurvivorFailNamingIt) {
  TempDir dir;
  const std::string cfg = small_config(dir, R"({"epochs": 50, "batch_size": 50})", 600);
  const int port = cnnkit::test::dist::free_port();
  std::vector<int> pids;
  for (int r = 0; r < 2; ++r) {
    pids.push_back(cnnkit::test::dist::spawn_process(
        {binary(), "train", "--config", cfg, "--run-dir", dir.str("run" + std::to_string(r)), "--dist-timeout", "40"},
        {"RANK=" + std::to_string(r), "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + std::to_string(port)},
        dir.str("rank" + std::to_string(r) + ".log")));
  }
  ASSERT_TRUE(wait_for(dir.path() / "run0" / "last.pt", 120s)) << read_file(dir.str("rank0.log"));
  const auto killed = std::chrono::steady_clock::now();
  kill(pids[1], SIGKILL);
  EXPECT_EQ(cnnkit::test::dist::wait_process(pids[1], 10s), 128 + SIGKILL);
  EXPECT_EQ(cnnkit::test::dist::wait_process(pids[0], 60s), 1) << read_file(dir.str("rank0.log"));
  EXPECT_LT(std::chrono::steady_clock::now() - killed, 30s);
  const std::string log = read_file(dir.str("rank0.log"));
  const std::string error = log.substr(log.find("cnnkit: error: "));
  EXPECT_EQ(lines_of(error), 1) << log;
  EXPECT_EQ(error.rfind("cnnkit: error: rank 0: ", 0), 0u) << error;
  EXPECT_NE(error.find("failed (gloo): "), std::string::npos) << error;
  EXPECT_NE(error.find("rank 1"), std::string::npos) << error;
  EXPECT_FALSE(fs::exists(dir.path() / "run1"));  // rank 1 never wrote anything
}

TEST_F(DataParallelCli, BadLaunchEnvironmentsAreOneLineUsageErrors) {
  TempDir dir;
  const std::string cfg = small_config(dir, R"({"epochs": 1})", 100);
  auto expect_usage = [&](const std::vector<std::string>& args, const std::vector<std::string>& env,
                          const std::string& message) {
    std::vector<std::string> all = {"train", "--config", cfg, "--run-dir", dir.str("never")};
    all.insert(all.end(), args.begin(), args.end());
    auto r = run_cli(all, "", env);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(lines_of(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  };
  expect_usage({}, {"WORLD_SIZE=2"}, "launch environment (env RANK/WORLD_SIZE): WORLD_SIZE is set but RANK is not");
  expect_usage({}, {"RANK=2", "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", "MASTER_PORT=29500"},
               "RANK=2 must be below WORLD_SIZE=2");
  expect_usage({"--nproc", "2"}, {"RANK=0", "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", "MASTER_PORT=29500"},
               "--nproc 2: this process already runs under env RANK/WORLD_SIZE");
  auto zero = run_cli({"train", "--config", cfg, "--run-dir", dir.str("never"), "--nproc", "0"});
  EXPECT_EQ(zero.exit_code, 2) << zero.err;
  EXPECT_NE(zero.err.find("--nproc 0: expected a value from 1 to 1024"), std::string::npos) << zero.err;
  // Rank 1 of 2 with nobody at MASTER_ADDR:MASTER_PORT.
  const std::string port = std::to_string(cnnkit::test::dist::free_port());
  expect_usage({"--dist-timeout", "1"}, {"RANK=1", "WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + port},
               "rank 1: cannot reach the rendezvous store at MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port);
  EXPECT_FALSE(fs::exists(dir.path() / "never"));
}
