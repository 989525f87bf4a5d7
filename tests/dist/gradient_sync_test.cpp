// Data-parallel training with real processes: two copies of this test binary as ranks
// (DistWorker.* in dist_workers_test.cpp), rank 0 hosting the store (a plain env:// launch).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>

#include "cnnkit/dist/context.h"
#include "cnnkit/dist/gradient_sync.h"
#include "dist/dist_support.h"
#include "support/cli.h"

using namespace cnnkit;
using namespace cnnkit::test::dist;
using namespace std::chrono_literals;

namespace {

// Starts `scenario` on two ranks and waits for both; returns their exit codes.
std::vector<int> run_two(const std::string& scenario, const test::TempDir& dir, const std::string& args = "") {
  const int port = free_port();
  std::vector<WorkerProcess> ws;
  for (int r = 0; r < 2; ++r) ws.push_back(spawn_worker(scenario, r, 2, port, dir.str(), args));
  std::vector<int> codes;
  for (auto& w : ws) codes.push_back(wait_process(w.pid, 90s));
  return codes;
}

std::string logs(const test::TempDir& dir) {
  return "\n--- worker0.log\n" + read_text(dir.str("worker0.log")) + "\n--- worker1.log\n" +
         read_text(dir.str("worker1.log"));
}

}  // namespace

TEST(DistTraining, EveryRankHoldsBitIdenticalParameters) {
  test::TempDir dir("cnnkit-dist");
  auto codes = run_two("IdenticalParameters", dir);
  ASSERT_EQ(codes, (std::vector<int>{0, 0})) << logs(dir);
  auto p0 = read_text(dir.str("params0")), p1 = read_text(dir.str("params1"));
  ASSERT_FALSE(p0.empty());
  EXPECT_TRUE(p0 == p1) << "parameters differ across ranks";
  EXPECT_EQ(read_text(dir.str("buffers0")), read_text(dir.str("buffers1")));
  // Training moved the parameters away from rank 0's initialisation.
  torch::manual_seed(100);
  ToyNet init(true);
  EXPECT_FALSE(torch::equal(read_floats(dir.str("params0")), flat_parameters(*init)));
  // Rank 0 got the average gradient of the layer only rank 1 uses; nobody has one for `unused`;
  // the hooks launched buckets during backward.
  auto info0 = read_text(dir.str("info0"));
  EXPECT_NE(info0.find("extra_grad=1 unused_grad=0 buckets=3 "), std::string::npos) << info0;
  EXPECT_EQ(info0.find("early=0"), std::string::npos) << info0;
  EXPECT_NE(info0.find("steps=6"), std::string::npos) << info0;
}

TEST(DistTraining, TwoRanksWithBatchBMatchOneProcessWithBatch2B) {
  test::TempDir dir("cnnkit-dist");
  auto codes = run_two("MatchSingleProcess", dir);
  ASSERT_EQ(codes, (std::vector<int>{0, 0})) << logs(dir);
  // The single-process reference: the same model and optimizer on the global batch of 16.
  torch::manual_seed(5);
  ToyNet net(false);
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  std::vector<torch::Tensor> reference;
  for (int step = 0; step < 4; ++step) {
    auto global = toy_batch(42, step, 16);
    opt.zero_grad();
    torch::nn::functional::cross_entropy(net(global.x), global.y).backward();
    opt.step();
    reference.push_back(flat_parameters(*net));
  }
  const int64_t n = reference[0].numel();
  for (int r = 0; r < 2; ++r) {
    auto got = read_floats(dir.str("params" + std::to_string(r)));
    ASSERT_EQ(got.numel(), 4 * n);
    for (int step = 0; step < 4; ++step) {
      auto mine = got.narrow(0, step * n, n);
      EXPECT_TRUE(torch::allclose(mine, reference[step], 1e-4, 1e-6))
          << "rank " << r << " step " << step << ": max difference "
          << (mine - reference[step]).abs().max().item<float>();
    }
  }
  EXPECT_EQ(read_text(dir.str("params0")), read_text(dir.str("params1")));
  // Step 2 ran two armed backwards: the buckets launched in the first were reduced again.
  auto info = read_text(dir.str("info0"));
  EXPECT_EQ(info.find("repeated=0"), std::string::npos) << info;
}

TEST(DistTraining, AKilledRankMakesTheSurvivorFailNamingIt) {
  test::TempDir dir("cnnkit-dist");
  auto start = std::chrono::steady_clock::now();
  auto codes = run_two("Survive", dir, "die_rank=1;die_step=2;timeout_ms=20000");
  EXPECT_EQ(codes, (std::vector<int>{1, 128 + SIGKILL})) << logs(dir);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 60s);
  auto msg = read_text(dir.str("error0.txt"));
  EXPECT_EQ(msg.rfind("rank 0: all-reduce of gradient bucket ", 0), 0u) << msg;
  EXPECT_NE(msg.find("failed (gloo): "), std::string::npos) << msg;
  EXPECT_NE(msg.find("; no word from rank 1 within 3 s (dead, or stuck outside communication: see its log)"),
            std::string::npos)
      << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST(DistTraining, ADeadStoreHostIsNamedAsSuch) {
  test::TempDir dir("cnnkit-dist");
  auto codes = run_two("Survive", dir, "die_rank=0;die_step=2;timeout_ms=20000");
  EXPECT_EQ(codes, (std::vector<int>{128 + SIGKILL, 1})) << logs(dir);
  auto msg = read_text(dir.str("error1.txt"));
  EXPECT_EQ(msg.rfind("rank 1: ", 0), 0u) << msg;
  EXPECT_NE(msg.find("(hosted by rank 0) is unreachable: rank 0 probably died"), std::string::npos) << msg;
}

TEST(DistTraining, AHangingRankMakesTheOthersFailAfterTheTimeout) {
  test::TempDir dir("cnnkit-dist");
  const int port = free_port();
  auto args = "mode=hang;die_rank=1;die_step=2;timeout_ms=2000";
  auto w0 = spawn_worker("Survive", 0, 2, port, dir.str(), args);
  auto w1 = spawn_worker("Survive", 1, 2, port, dir.str(), args);
  int code0 = wait_process(w0.pid, 60s);
  kill(w1.pid, SIGKILL);
  wait_process(w1.pid, 10s);
  EXPECT_EQ(code0, 1) << logs(dir);
  auto msg = read_text(dir.str("error0.txt"));
  EXPECT_EQ(msg.rfind("rank 0: all-reduce of gradient bucket ", 0), 0u) << msg;
  EXPECT_NE(msg.find(" (collective timeout 2 s); no word from rank 1 within 1 s"), std::string::npos) << msg;
}
