// Runs are never lost: a full disk while writing a checkpoint keeps the previous one, a run
// directory is never overwritten by accident nor written by two processes, a resume never
// silently continues something else than config.json says, and signals behave.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include "support/cli.h"
#include "train/train_fixtures.h"

using namespace cnnkit::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

class Durability : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_mnist()) GTEST_SKIP() << "../shared/data/mnist not found";
  }
};

int lines_of(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

// Starts a long training run in the background and waits until it trains.
int start_long_run(const TempDir& dir, const std::string& cfg, const std::string& run) {
  std::vector<std::string> args = {"train", "--config", cfg, "--run-dir", run, "--quiet"};
  int pid = spawn_cli(args, dir.str("bg.out"), dir.str("bg.err"));
  for (int i = 0; i < 600 && !fs::exists(fs::path(run) / "summary.txt"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return pid;
}

}  // namespace

TEST_F(Durability, ACheckpointThatCannotBeWrittenKeepsThePreviousOne) {
  TempDir dir;
  std::string cfg = small_config(dir, R"({"epochs": 1, "batch_size": 100, "seed": 3})", 500);
  std::string run = dir.str("run");
  ASSERT_EQ(run_cli({"train", "--config", cfg, "--run-dir", run, "--quiet"}).exit_code, 0);
  const auto size = fs::file_size(fs::path(run) / "last.pt");
  // Epoch 2 under a file-size limit smaller than a checkpoint (a full disk behaves the same).
  auto r = run_command({"prlimit", "--fsize=" + std::to_string(size / 2), binary(), "train", "--resume", run, "--quiet",
                        "--set", "training.epochs=2"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(lines_of(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(run + "/last.pt: cannot write: File too large"), std::string::npos) << r.err;
  // The previous checkpoint is intact, and no temporary file is left behind.
  auto ev = run_cli({"evaluate", "--checkpoint", run + "/last.pt", "--json"});
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  for (const auto& e : fs::directory_iterator(run))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  // And the run resumes once there is room again.
  auto again = run_cli({"train", "--resume", run, "--quiet", "--set", "training.epochs=2", "--json"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(json_lines(again.out).size(), 2u);  // epoch 2 and the final line
}

TEST_F(Durability, ANewRunNeverOverwritesAnotherUnlessAsked) {
  TempDir dir;
  std::string cfg = small_config(dir, R"({"epochs": 1, "batch_size": 100})", 300);
  std::string run = dir.str("run");
  ASSERT_EQ(run_cli({"train", "--config", cfg, "--run-dir", run, "--quiet"}).exit_code, 0);
  const auto before = fs::last_write_time(fs::path(run) / "last.pt");
  auto again = run_cli({"train", "--config", cfg, "--run-dir", run, "--quiet"});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_EQ(lines_of(again.err), 1) << again.err;
  EXPECT_NE(again.err.find(run + ": already holds a run"), std::string::npos) << again.err;
  EXPECT_NE(again.err.find("--resume"), std::string::npos) << again.err;
  EXPECT_EQ(fs::last_write_time(fs::path(run) / "last.pt"), before);
  auto over = run_cli({"train", "--config", cfg, "--run-dir", run, "--quiet", "--overwrite"});
  EXPECT_EQ(over.exit_code, 0) << over.err;
  EXPECT_NE(fs::last_write_time(fs::path(run) / "last.pt"), before);
}

TEST_F(Durability, TwoRunsNeverWriteOneDirectory) {
  TempDir dir;
  std::string cfg = small_config(dir, R"({"epochs": 50, "batch_size": 32})", 20000);
  std::string run = dir.str("run");
  int pid = start_long_run(dir, cfg, run);
  auto second = run_cli({"train", "--config", cfg, "--run-dir", run, "--quiet", "--overwrite"});
  kill(pid, SIGTERM);
  wait_cli(pid);
  EXPECT_NE(second.exit_code, 0);
  EXPECT_NE(second.err.find("another cnnkit process (pid " + std::to_string(pid) + ") is training in this run"),
            std::string::npos)
      << second.err;
}

TEST_F(Durability, ResumeSaysWhatChangedAndRefusesWhatCannotCarryOver) {
  TempDir dir;
  std::string cfg = small_config(dir, R"({"epochs": 1, "batch_size": 100, "optimizer": {"type": "adam"}})", 300);
  std::string run = dir.str("run");
  ASSERT_EQ(run_cli({"train", "--config", cfg, "--run-dir", run, "--quiet"}).exit_code, 0);
  auto type = run_cli(
      {"train", "--resume", run, "--set", "training.optimizer={\"type\": \"sgd\"}", "--set", "training.epochs=2"});
  EXPECT_EQ(type.exit_code, 2);
  EXPECT_NE(type.err.find("trained with optimizer adam and the config now says sgd"), std::string::npos) << type.err;
  auto lr = run_cli({"train", "--resume", run, "--set", "training.optimizer.lr=0.0005", "--set", "training.epochs=2"});
  EXPECT_EQ(lr.exit_code, 0) << lr.err;
  EXPECT_NE(lr.err.find("resuming with settings changed since the checkpoint: /training/epochs 1 -> 2, "
                        "/training/optimizer/lr 0.001 -> 0.0005"),
            std::string::npos)
      << lr.err;
  EXPECT_EQ(json::parse(read_file(run + "/config.json"))["training"]["optimizer"]["lr"], 0.0005);
}

TEST_F(Durability, AResumeMidEpochRefusesChangedData) {
  TempDir dir;
  std::string cfg = small_config(dir, R"({"epochs": 50, "batch_size": 32})", 20000);
  std::string run = dir.str("run");
  int pid = start_long_run(dir, cfg, run);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  kill(pid, SIGINT);
  ASSERT_EQ(wait_cli(pid), 130) << read_file(dir.str("bg.err"));
  auto r = run_cli({"train", "--resume", run, "--quiet", "--set", "data.limit_train=10000"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(lines_of(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("interrupted mid-epoch with an epoch order of 20000 training images, but the training "
                       "split now has 10000"),
            std::string::npos)
      << r.err;
}

TEST_F(Durability, ASigintTheShellIgnoresStaysIgnored) {
  TempDir dir;
  std::string cfg = small_config(dir, R"({"epochs": 50, "batch_size": 32})", 20000);
  std::string run = dir.str("run");
  // `trap '' INT` is what a shell does for a background job in a script (and nohup for HUP).
  const std::string cmd = "trap '' INT; exec " + binary() + " train --config " + cfg + " --run-dir " + run + " --quiet";
  int pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 600 && !fs::exists(fs::path(run) / "summary.txt"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  kill(pid, SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, WNOHANG), 0) << "the ignored SIGINT stopped the run";
  kill(pid, SIGTERM);  // SIGTERM is not ignored: it stops the run with a checkpoint
  waitpid(pid, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 130);
}

TEST(StdoutFailures, AFullStdoutIsAnErrorAndAClosedPipeIsQuiet) {
  auto full = run_command({"sh", "-c", binary() + " summary --config " + config_path("mnist.json") + " >/dev/full"});
  EXPECT_EQ(full.exit_code, 1);
  EXPECT_NE(full.err.find("cnnkit: error: cannot write the results to standard output"), std::string::npos) << full.err;
  // `| head -c 1` closes the pipe long before cnnkit has written its ~1 MB: it ends quietly, as
  // other Unix tools do (no error line).
  TempDir dir;
  json layers = json::array();
  for (int i = 0; i < 3000; ++i) layers.push_back({{"type", "relu"}});
  json doc = {{"input", {{"channels", 1}, {"height", 2}, {"width", 2}}}, {"layers", layers}};
  std::string big = dir.write("big.json", doc.dump());
  auto pipe = run_command({"sh", "-c", binary() + " summary --json --config " + big + " | head -c 1 >/dev/null"});
  EXPECT_EQ(pipe.exit_code, 0);
  EXPECT_EQ(pipe.err, "");
}
