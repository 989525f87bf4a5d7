// Data-parallel training through the real engine (train_model): two copies of this test binary
// as ranks (DistWorker.TrainModel, see tests/dist/dist_support.h), against one process running
// the same config. Plus the pure rules: shards, loss weights, replica checksums.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "cnnkit/core/error.h"
#include "cnnkit/dist/launch_env.h"
#include "cnnkit/train/data_parallel.h"
#include "cnnkit/train/trainer.h"
#include "dist/dist_support.h"
#include "support/cli.h"
#include "train/train_fixtures.h"

using namespace cnnkit;
using namespace cnnkit::test::dist;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// Writes every parameter's bits after each step (on every rank: not a rank-0-only observer).
class StepRecorder : public TrainingObserver {
 public:
  explicit StepRecorder(std::string path) : path_(std::move(path)) {}
  bool rank0_only() const override { return false; }
  void on_step_end(TrainingRun& run, const StepEvent&) override {
    write_tensor(path_, flat_parameters(*run.model.net));
  }

 private:
  std::string path_;
};

// A model without dropout or batch norm, no augmentation: one process with the global batch must
// match two ranks with half of it each, to float tolerance. Batch 31 of 94 images: shards of 15
// and 16 (unequal loss weights), and a last batch of one image (rank 0 gets none).
std::string exact_config(const test::TempDir& dir) {
  using nlohmann::json;
  json c = {{"name", "ddp"},
            {"input", {{"channels", 1}, {"height", 28}, {"width", 28}}},
            {"data",
             {{"source", "mnist"},
              {"root", (test::shared_data() / "mnist").string()},
              {"limit_train", 94},
              {"limit_test", 50}}},
            {"layers", json::array({{{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3}, {"activation", "relu"}},
                                    {{"type", "maxpool2d"}, {"pool_size", 2}},
                                    {{"type", "flatten"}},
                                    {{"type", "dense"}, {"units", 10}}})},
            {"training",
             {{"epochs", 2},
              {"batch_size", 31},
              {"optimizer", {{"type", "sgd"}, {"lr", 0.05}, {"momentum", 0.9}, {"weight_decay", 1e-4}}}}}};
  return dir.write("ddp.json", c.dump(2));
}

constexpr int kSteps = 8;  // 2 epochs of 4 batches (31, 31, 31, 1)

}  // namespace

// One rank of the two-process runs below: train_model with the launch variables the parent set.
TEST(DistWorker, TrainModel) {
  if (!is_worker()) GTEST_SKIP() << "a worker of the Dist* multi-process tests";
  torch::set_num_threads(1);
  const auto launch = dist::detect_launch(dist::current_environment());
  run_worker(launch.rank, [&] {
    const std::string me = std::to_string(launch.rank);
    TrainOptions o;
    o.launch = launch;
    o.dist.timeout = o.dist.rendezvous_timeout = 30s;
    o.run_dir = worker_dir() + "/run" + me;  // only rank 0 may create it
    o.observers.push_back(std::make_unique<StepRecorder>(worker_dir() + "/params" + me));
    const TrainResult r = train_model(load_config(worker_args()["config"]), std::move(o), torch::kCPU);
    write_text(worker_dir() + "/result" + me, r.test.dump());
  });
}

TEST(DataParallel, ShardsCoverEveryImageOnceAndWeightsAverageToTheGlobalGradient) {
  for (std::int64_t n : {0, 1, 2, 7, 31, 128}) {
    for (int world : {1, 2, 3, 8}) {
      std::int64_t next = 0, biggest = 0, smallest = n;
      double weights = 0;
      for (int r = 0; r < world; ++r) {
        const auto [lo, hi] = shard_of(n, r, world);
        EXPECT_EQ(lo, next) << n << " over " << world;
        next = hi;
        biggest = std::max(biggest, hi - lo);
        smallest = std::min(smallest, hi - lo);
        if (n > 0) weights += static_cast<double>(hi - lo) * world / static_cast<double>(n);
      }
      EXPECT_EQ(next, n);
      EXPECT_LE(biggest - smallest, 1);
      // The mean over ranks of weight_r x (mean loss of shard r) is the global mean when the
      // weights are n_r x W / n: their mean is 1.
      if (n > 0) EXPECT_NEAR(weights / world, 1.0, 1e-12);
    }
  }
}

TEST(DataParallel, ReplicaChecksumSeesOneFlippedBit) {
  torch::manual_seed(3);
  ToyNet a(true), b(true);
  {
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < a->parameters().size(); ++i) b->parameters()[i].copy_(a->parameters()[i]);
    for (std::size_t i = 0; i < a->buffers().size(); ++i) b->buffers()[i].copy_(a->buffers()[i]);
  }
  EXPECT_EQ(replica_checksum(*a), replica_checksum(*b));
  {
    torch::NoGradGuard no_grad;
    auto w = b->fc1->weight.view({-1});
    const float v = w[5].item<float>();
    std::uint32_t bits;
    std::memcpy(&bits, &v, 4);
    bits ^= 1u;  // the lowest mantissa bit
    float flipped;
    std::memcpy(&flipped, &bits, 4);
    w[5].fill_(flipped);
  }
  EXPECT_NE(replica_checksum(*a), replica_checksum(*b));
  // Two values swapped between places keep the plain byte sum; the position weights see it.
  ToyNet c(false), d(false);
  {
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < c->parameters().size(); ++i) d->parameters()[i].copy_(c->parameters()[i]);
    auto w = d->fc2->bias;
    auto first = w[0].item<float>(), second = w[1].item<float>();
    w[0].fill_(second);
    w[1].fill_(first);
  }
  EXPECT_NE(replica_checksum(*c), replica_checksum(*d));
}

// After every step, both ranks hold bit-identical parameters, and they match one process that
// trains on the whole global batch; both report the same test figures (every test image once).
TEST(DataParallel, TwoRanksMatchOneProcessStepByStep) {
  if (!cnnkit::test::have_mnist()) GTEST_SKIP() << "MNIST not in ../shared/data";
  test::TempDir dir("cnnkit-ddp");
  const std::string config = exact_config(dir);
  const int port = free_port();
  std::vector<WorkerProcess> ws;
  for (int r = 0; r < 2; ++r) ws.push_back(spawn_worker("TrainModel", r, 2, port, dir.str(), "config=" + config));
  std::vector<int> codes;
  for (auto& w : ws) codes.push_back(wait_process(w.pid, 120s));
  ASSERT_EQ(codes, (std::vector<int>{0, 0})) << read_text(dir.str("worker0.log")) << read_text(dir.str("worker1.log"));

  // The reference: this process, one rank, the same config.
  TrainOptions o;
  o.run_dir = dir.str("reference");
  o.observers.push_back(std::make_unique<StepRecorder>(dir.str("params_ref")));
  const TrainResult ref = train_model(load_config(config), std::move(o), torch::kCPU);

  const auto p0 = read_floats(dir.str("params0")), p1 = read_floats(dir.str("params1"));
  const auto pr = read_floats(dir.str("params_ref"));
  ASSERT_EQ(pr.numel() % kSteps, 0);
  const std::int64_t n = pr.numel() / kSteps;
  ASSERT_EQ(p0.numel(), pr.numel());
  EXPECT_TRUE(read_text(dir.str("params0")) == read_text(dir.str("params1"))) << "ranks differ";
  for (int step = 0; step < kSteps; ++step) {
    auto mine = p0.narrow(0, step * n, n), theirs = pr.narrow(0, step * n, n);
    EXPECT_TRUE(torch::allclose(mine, theirs, 1e-4, 1e-5))
        << "step " << step + 1 << ": max difference " << (mine - theirs).abs().max().item<float>();
  }
  EXPECT_FALSE(torch::equal(pr.narrow(0, 0, n), pr.narrow(0, (kSteps - 1) * n, n)));  // it trained

  const auto t0 = nlohmann::json::parse(read_text(dir.str("result0")));
  const auto t1 = nlohmann::json::parse(read_text(dir.str("result1")));
  EXPECT_EQ(t0, t1);
  EXPECT_EQ(t0["count"], 50);
  EXPECT_EQ(t0["accuracy"], ref.test["accuracy"]);
  EXPECT_NEAR(t0["loss"].get<double>(), ref.test["loss"].get<double>(), 1e-4);
  std::int64_t counted = 0;
  for (const auto& row : t0["confusion_matrix"])
    for (const auto& v : row) counted += v.get<std::int64_t>();
  EXPECT_EQ(counted, 50);

  // Rank 0 alone wrote the run directory; it records the launch.
  EXPECT_FALSE(fs::exists(dir.path() / "run1"));
  const auto final_doc = nlohmann::json::parse(read_text(dir.str("run0/final.json")));
  EXPECT_EQ(final_doc["distributed"]["world_size"], 2);
  EXPECT_EQ(final_doc["distributed"]["backend"], "gloo");
  EXPECT_EQ(final_doc["distributed"]["global_batch"], 31);
  EXPECT_EQ(final_doc["distributed"]["per_process_batch"], 16);
  // The epochs' training figures are every rank's sums: those of the one process.
  const auto rows = cnnkit::test::json_lines(read_text(dir.str("run0/metrics.jsonl")));
  const auto ref_rows = cnnkit::test::json_lines(read_text(dir.str("reference/metrics.jsonl")));
  ASSERT_EQ(rows.size(), 2u);
  ASSERT_EQ(ref_rows.size(), 2u);
  for (std::size_t e = 0; e < rows.size(); ++e) {
    EXPECT_NEAR(rows[e]["train_loss"].get<double>(), ref_rows[e]["train_loss"].get<double>(), 1e-4) << e;
    EXPECT_EQ(rows[e]["train_accuracy"], ref_rows[e]["train_accuracy"]) << e;
    EXPECT_EQ(rows[e]["val_accuracy"], ref_rows[e]["val_accuracy"]) << e;
  }
}
