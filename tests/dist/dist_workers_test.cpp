// The worker side of the multi-process tests (see dist_support.h): each DistWorker.* test is
// one rank, started by a parent test with the launch variables set; run directly, they skip.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "cnnkit/core/error.h"
#include "cnnkit/core/interrupt.h"
#include "cnnkit/dist/context.h"
#include "cnnkit/dist/gradient_sync.h"
#include "cnnkit/dist/launch_env.h"
#include "cnnkit/dist/local_launcher.h"
#include "dist/dist_support.h"

using namespace cnnkit;
using namespace cnnkit::dist;
using namespace cnnkit::test::dist;

#define WORKER_ONLY()                                                            \
  if (!is_worker()) GTEST_SKIP() << "a worker of the Dist* multi-process tests"; \
  torch::set_num_threads(1)

namespace {

ContextOptions worker_options() {
  ContextOptions o;
  o.timeout = std::chrono::milliseconds(arg_int("timeout_ms", 20000));
  o.rendezvous_timeout = std::chrono::seconds(30);  // a loaded machine may start the ranks slowly
  return o;
}

const BucketOptions kSmallBuckets{256, 4096};  // several buckets even for the toy model

std::string path(const std::string& name, int rank) { return worker_dir() + "/" + name + std::to_string(rank); }

}  // namespace

// Different initialisation per rank, batch norm, a parameter only rank 1 uses and one nobody
// uses, momentum and weight decay: after broadcast + synchronised steps, every rank must hold
// the same bits.
TEST(DistWorker, IdenticalParameters) {
  WORKER_ONLY();
  auto launch = detect_launch(current_environment());
  run_worker(launch.rank, [&] {
    auto ctx = Context::create(launch, worker_options());
    torch::manual_seed(100 + launch.rank);
    ToyNet net(true);
    ctx->broadcast_parameters_and_buffers(*net);
    GradientSync sync(ctx, net->parameters(), kSmallBuckets);
    torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(1e-3));
    const int steps = arg_int("steps", 6);
    for (int step = 0; step < steps; ++step) {
      ctx->broadcast_buffers(*net);
      opt.zero_grad();
      auto batch = toy_batch(7 + launch.rank, step, 8);
      auto loss = torch::nn::functional::cross_entropy(net(batch.x, launch.rank == 1), batch.y);
      sync.prepare_for_backward(loss);
      loss.backward();
      sync.finish_gradient_sync();
      opt.step();
    }
    ctx->broadcast_buffers(*net);
    write_tensor(path("params", launch.rank), flat_parameters(*net));
    write_tensor(path("buffers", launch.rank), flat_buffers(*net));
    auto s = sync.stats();
    write_text(path("info", launch.rank),
               "extra_grad=" + std::to_string(net->extra->weight.grad().defined()) +
                   " unused_grad=" + std::to_string(net->unused->weight.grad().defined()) +
                   " buckets=" + std::to_string(sync.buckets().size()) + " early=" + std::to_string(s.early_launches) +
                   " late=" + std::to_string(s.late_launches) + " steps=" + std::to_string(s.steps));
    ctx->barrier();
  });
}

// Per-rank batch 8 of a global batch of 16, four ways of driving the sync (plain; gradient
// accumulation with only the last backward armed; two armed backwards; no prepare at all).
// Parameters after every step go to params<rank>.
TEST(DistWorker, MatchSingleProcess) {
  WORKER_ONLY();
  auto launch = detect_launch(current_environment());
  run_worker(launch.rank, [&] {
    auto ctx = Context::create(launch, worker_options());
    torch::manual_seed(5);
    ToyNet net(false);
    ctx->broadcast_parameters_and_buffers(*net);
    GradientSync sync(ctx, net->parameters(), kSmallBuckets);
    torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
    namespace F = torch::nn::functional;
    for (int step = 0; step < 4; ++step) {
      auto global = toy_batch(42, step, 16);
      auto x = global.x.narrow(0, 8 * launch.rank, 8), y = global.y.narrow(0, 8 * launch.rank, 8);
      opt.zero_grad();
      const int mode = step;
      if (mode == 0) {
        auto loss = F::cross_entropy(net(x), y);
        sync.prepare_for_backward(loss);
        loss.backward();
      } else if (mode == 1 || mode == 2) {
        auto loss0 = F::cross_entropy(net(x.narrow(0, 0, 4)), y.narrow(0, 0, 4)) * 0.5;
        if (mode == 2) sync.prepare_for_backward(loss0);
        loss0.backward();
        auto loss1 = F::cross_entropy(net(x.narrow(0, 4, 4)), y.narrow(0, 4, 4)) * 0.5;
        if (mode == 1) sync.prepare_for_backward(loss1);
        loss1.backward();
      } else {
        F::cross_entropy(net(x), y).backward();
      }
      sync.finish_gradient_sync();
      opt.step();
      write_tensor(path("params", launch.rank), flat_parameters(*net));
    }
    auto s = sync.stats();
    write_text(path("info", launch.rank), "repeated=" + std::to_string(s.repeated_reductions) +
                                              " early=" + std::to_string(s.early_launches) +
                                              " late=" + std::to_string(s.late_launches));
    ctx->barrier();
  });
}

// Trains until rank `die_rank` dies (kill) or stops answering (hang) at step `die_step`.
TEST(DistWorker, Survive) {
  WORKER_ONLY();
  auto launch = detect_launch(current_environment());
  run_worker(launch.rank, [&] {
    auto ctx = Context::create(launch, worker_options());
    torch::manual_seed(5);
    ToyNet net(false);
    ctx->broadcast_parameters_and_buffers(*net);
    GradientSync sync(ctx, net->parameters(), kSmallBuckets);
    torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.1));
    const bool hang = worker_args()["mode"] == "hang";
    for (int step = 0; step < 100; ++step) {
      if (launch.rank == arg_int("die_rank", 1) && step == arg_int("die_step", 2)) {
        write_text(path("dying", launch.rank), std::to_string(getpid()));
        if (!hang) raise(SIGKILL);
        std::this_thread::sleep_for(std::chrono::seconds(120));
      }
      auto batch = toy_batch(3, step, 8);
      opt.zero_grad();
      auto loss = torch::nn::functional::cross_entropy(net(batch.x), batch.y);
      sync.prepare_for_backward(loss);
      loss.backward();
      sync.finish_gradient_sync();
      opt.step();
    }
    write_text(path("finished", launch.rank), "all steps done");
  });
}

// A --nproc worker. mode=sum: all-reduce rank + 1. mode=fail: rank 1 exits 3 at once.
// mode=stop: two rounds of steps, each until some rank got SIGINT/SIGTERM (the parent signals
// one rank, then the launcher): the step where each rank stopped goes to stop<round>_<rank>;
// after the second round the worker exits 130.
TEST(DistWorker, LauncherChild) {
  WORKER_ONLY();
  auto launch = detect_launch(current_environment());
  auto mode = worker_args()["mode"];
  if (mode == "fail" && launch.rank == 1) std::_Exit(3);
  if (mode == "stop") install_interrupt_handlers();
  run_worker(launch.rank, [&] {
    auto ctx = Context::create(launch, worker_options());
    write_text(path("launch", launch.rank), describe(launch));
    if (mode == "sum" || mode == "fail") {
      auto sum = ctx->sum_across_ranks({launch.rank + 1.0});
      write_text(path("sum", launch.rank), std::to_string(static_cast<int>(sum[0])));
      ctx->barrier();
      return;
    }
    for (int round = 1; round <= 2; ++round) {
      write_text(path("ready" + std::to_string(round) + "_", launch.rank), std::to_string(getpid()));
      int step = 0;
      while (!ctx->any_rank_stopping(interrupt_requested())) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (++step == 3000) throw cnnkit::Error("no stop request came");
      }
      write_text(path("stop" + std::to_string(round) + "_", launch.rank), std::to_string(step));
      ctx->barrier();
      clear_interrupt();
    }
    std::fflush(nullptr);
    std::_Exit(130);
  });
}

// Runs the --nproc launcher with LauncherChild workers (arguments passed on) and exits with
// its exit code.
TEST(DistWorker, Launcher) {
  if (!is_worker()) GTEST_SKIP() << "a worker of the Dist* multi-process tests";
  LocalLaunchOptions o;
  o.nproc = arg_int("nproc", 2);
  o.args = {self_executable(), "--gtest_brief=1", "--gtest_filter=DistWorker.LauncherChild"};
  auto result = run_local_workers(o);
  std::string statuses;
  for (const auto& w : result.workers) statuses += std::to_string(w.status) + " ";
  write_text(worker_dir() + "/launcher",
             "exit=" + std::to_string(result.exit_code) + " interrupted=" + std::to_string(result.interrupted) +
                 " first_failed=" + std::to_string(result.first_failed_rank) + " statuses=" + statuses);
  std::fflush(nullptr);
  std::_Exit(result.exit_code);
}
