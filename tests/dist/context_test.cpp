// Context collectives and rendezvous errors, with the ranks run as threads of this process
// (c10d keeps no process-wide state that prevents it): fast, and enough for the API. Real
// processes are exercised in gradient_sync_test.cpp and local_launcher_test.cpp.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "cnnkit/core/error.h"
#include "cnnkit/dist/context.h"
#include "cnnkit/dist/dist_error.h"
#include "dist/dist_support.h"

using namespace cnnkit;
using namespace cnnkit::dist;
using namespace std::chrono_literals;

namespace {

LaunchInfo rank_of(int rank, int world, int port) {
  LaunchInfo info;
  info.launcher = Launcher::kEnv;
  info.rank = info.local_rank = rank;
  info.world_size = info.local_world_size = world;
  info.master_addr = "127.0.0.1";
  info.master_port = port;
  return info;
}

ContextOptions quick(std::chrono::milliseconds timeout = 10s) {
  ContextOptions o;
  o.timeout = o.rendezvous_timeout = timeout;
  return o;
}

// Runs body(rank) on `world` threads; returns each rank's exception message ("" if none).
std::vector<std::string> run_ranks(int world, const std::function<void(int)>& body) {
  std::vector<std::string> errors(world);
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      try {
        body(r);
      } catch (const std::exception& e) {
        errors[r] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  return errors;
}

}  // namespace

TEST(DistContext, CollectivesAcrossTwoRanks) {
  const int port = test::dist::free_port();
  std::vector<std::vector<double>> sums(2);
  std::vector<std::vector<int>> stops(2);
  auto errors = run_ranks(2, [&](int r) {
    auto ctx = Context::create(rank_of(r, 2, port), quick());
    EXPECT_EQ(ctx->rank(), r);
    EXPECT_EQ(ctx->world_size(), 2);
    EXPECT_EQ(ctx->backend(), "gloo");
    EXPECT_EQ(ctx->is_root(), r == 0);

    // Broadcast: rank 0's values everywhere, several dtypes, a parameter that requires grad.
    auto a = torch::full({2, 3}, r + 1.0f).requires_grad_();
    auto b = torch::full({4}, static_cast<int64_t>(10 * (r + 1)));
    auto c = torch::full({5}, r + 0.5f);
    ctx->broadcast({a, b, c});
    EXPECT_TRUE(torch::equal(a.detach(), torch::full({2, 3}, 1.0f)));
    EXPECT_TRUE(torch::equal(b, torch::full({4}, int64_t{10})));
    EXPECT_TRUE(torch::equal(c, torch::full({5}, 0.5f)));

    // In-place sums, coalesced across tensors of two dtypes.
    auto x = torch::full({3}, r + 1.0f);
    auto n = torch::full({1}, static_cast<int64_t>(r + 1));
    ctx->all_reduce_sum({x, n});
    EXPECT_TRUE(torch::equal(x, torch::full({3}, 3.0f)));
    EXPECT_EQ(n.item<int64_t>(), 3);
    sums[r] = ctx->sum_across_ranks({1.0, r * 2.5, 1e12});

    stops[r].push_back(ctx->any_rank_stopping(false));
    stops[r].push_back(ctx->any_rank_stopping(r == 1));
    ctx->check_same_across_ranks({1, 2, 3}, "three numbers");
    ctx->barrier();
    EXPECT_GE(ctx->stats().collectives, 8);
    EXPECT_GT(ctx->stats().bytes, 0);
  });
  EXPECT_EQ(errors, (std::vector<std::string>{"", ""}));
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(sums[r], (std::vector<double>{2.0, 2.5, 2e12}));
    EXPECT_EQ(stops[r], (std::vector<int>{0, 1}));
  }
}

TEST(DistContext, ModelsThatDifferAcrossRanksAreAConfigError) {
  const int port = test::dist::free_port();
  auto errors = run_ranks(2, [&](int r) {
    auto ctx = Context::create(rank_of(r, 2, port), quick());
    torch::nn::Sequential model(torch::nn::Linear(4, r == 0 ? 3 : 5));
    try {
      ctx->broadcast_parameters_and_buffers(*model);
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.exit_code(), 2);
      throw;
    }
  });
  for (int r = 0; r < 2; ++r) {
    EXPECT_NE(errors[r].find("rank " + std::to_string(r) +
                             ": the model's parameters and buffers (count, shapes, dtypes) differ across ranks"),
              std::string::npos)
        << errors[r];
    EXPECT_NE(errors[r].find("every rank must run the same config"), std::string::npos) << errors[r];
  }
}

TEST(DistContext, BroadcastsParametersAndBuffersFromRankZero) {
  const int port = test::dist::free_port();
  std::vector<torch::Tensor> params(2), buffers(2);
  auto errors = run_ranks(2, [&](int r) {
    auto ctx = Context::create(rank_of(r, 2, port), quick());
    torch::manual_seed(r);  // (threads share the global generator: only the seed per call matters)
    test::dist::ToyNet net(true);
    net->bn->running_mean.fill_(r + 1.0);
    ctx->broadcast_parameters_and_buffers(*net);
    params[r] = test::dist::flat_parameters(*net);
    net->bn->running_var.fill_(r + 3.0);
    ctx->broadcast_buffers(*net);
    buffers[r] = test::dist::flat_buffers(*net);
  });
  EXPECT_EQ(errors, (std::vector<std::string>{"", ""}));
  EXPECT_TRUE(torch::equal(params[0], params[1]));
  EXPECT_TRUE(torch::equal(buffers[0], buffers[1]));
  EXPECT_EQ(buffers[1][0].item<float>(), 1.0f);  // running_mean from rank 0
  EXPECT_EQ(buffers[1][8].item<float>(), 3.0f);  // running_var from rank 0
}

TEST(DistContext, UnreachableMasterAddrIsAOneLineUsageError) {
  // A port nobody listens on, and a name that does not resolve.
  const int port = test::dist::free_port();
  for (std::string addr : {"127.0.0.1", "no-such-host.invalid"}) {
    auto info = rank_of(1, 2, port);
    info.master_addr = addr;
    auto start = std::chrono::steady_clock::now();
    try {
      Context::create(info, quick(1500ms));
      FAIL() << addr;
    } catch (const UsageError& e) {
      std::string msg = e.what();
      EXPECT_EQ(e.exit_code(), 2);
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
      EXPECT_EQ(msg.rfind("rank 1: cannot reach the rendezvous store at MASTER_ADDR=" + addr +
                              " MASTER_PORT=" + std::to_string(port) + " (hosted by rank 0) within 1.5 s: ",
                          0),
                0u)
          << msg;
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);  // bounded by the timeout, not 30 min
  }
}

TEST(DistContext, BusyMasterPortIsAUsageErrorOnRankZero) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = 0;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  try {
    Context::create(rank_of(0, 2, port), quick(1s));
    FAIL();
  } catch (const UsageError& e) {
    std::string msg = e.what();
    EXPECT_EQ(msg.rfind("rank 0: cannot host the rendezvous store on MASTER_PORT=" + std::to_string(port), 0), 0u)
        << msg;
    EXPECT_NE(msg.find("choose a free port"), std::string::npos) << msg;
  }
  close(fd);
}

TEST(DistContext, MissingRankTimesOutNamingIt) {
  const int port = test::dist::free_port();
  try {
    Context::create(rank_of(0, 3, port), quick(1s));
    FAIL();
  } catch (const DistributedError& e) {
    EXPECT_EQ(e.exit_code(), 1);
    EXPECT_EQ(std::string(e.what()),
              "rank 0: rendezvous timed out after 1 s: 1 of 3 ranks joined; missing rank(s) 1, 2 (not started, or "
              "started with another MASTER_ADDR=127.0.0.1 MASTER_PORT=" +
                  std::to_string(port) + ")");
  }
}

TEST(DistContext, DuplicateRankAndDisagreeingWorldSizeAreUsageErrors) {
  const int port = test::dist::free_port();
  // Rank 0 of 2, rank 1, then a second claimant of rank 1 (once the first has joined), which
  // must be refused at once. The two real ranks keep their Contexts (rank 0 hosts the store)
  // until the claimant is done, then part with a barrier.
  std::vector<LaunchInfo> launches{rank_of(0, 2, port), rank_of(1, 2, port), rank_of(1, 2, port)};
  std::atomic<bool> joined{false}, refused{false};
  auto errors = run_ranks(3, [&](int i) {
    auto wait_for = [](std::atomic<bool>& flag) {
      for (int k = 0; k < 1000 && !flag; ++k) std::this_thread::sleep_for(10ms);
    };
    if (i == 2) {
      wait_for(joined);
      struct Done {
        std::atomic<bool>& f;
        ~Done() { f = true; }
      } done{refused};
      Context::create(launches[i], quick(3s));
      return;
    }
    auto ctx = Context::create(launches[i], quick(3s));
    if (i == 1) joined = true;
    wait_for(refused);
    ctx->barrier();
  });
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "");
  EXPECT_EQ(errors[2], "rank 1: another process already joined as rank 1 (check RANK / the launcher's rank variables)");

  const int port2 = test::dist::free_port();
  std::vector<LaunchInfo> mixed{rank_of(0, 2, port2), rank_of(1, 3, port2)};
  errors = run_ranks(2, [&](int i) { Context::create(mixed[i], quick(2s)); });
  EXPECT_EQ(errors[1],
            "rank 1: WORLD_SIZE 3 differs from rank 0's 2 (every rank must be started with the same world size)");
  EXPECT_NE(errors[0].find("rank 0: "), std::string::npos);  // rank 0 then fails on its own (timeout or peer gone)
}

TEST(DistContext, UnknownOrUnavailableBackend) {
  auto one = LaunchInfo{};  // a single process: no rendezvous, just the backend choice
  ContextOptions o;
  o.backend = "mpi";
  try {
    Context::create(one, o);
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), "distributed backend 'mpi': expected auto, gloo or nccl");
  }
  o.backend = "nccl";
  EXPECT_THROW(Context::create(one, o), UsageError);  // no NCCL here, or no CUDA device given
  o.backend = "auto";
  auto ctx = Context::create(one, o);
  EXPECT_EQ(ctx->backend(), "gloo");
  EXPECT_EQ(ctx->sum_across_ranks({4.0}), std::vector<double>{4.0});
}
