#include "cnnkit/dist/rendezvous.h"

#include <unistd.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <c10/util/Exception.h>

#include <sstream>
#include <vector>

#include "cnnkit/core/error.h"
#include "cnnkit/dist/dist_error.h"

namespace cnnkit::dist::detail {
namespace {

std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }
std::string text(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }
std::string rank_key(int r) { return "rank/" + std::to_string(r); }

std::string where(const LaunchInfo& launch) {
  return "MASTER_ADDR=" + launch.master_addr + " MASTER_PORT=" + std::to_string(launch.master_port);
}

}  // namespace

std::string seconds_text(std::chrono::milliseconds d) {
  std::ostringstream s;
  s << d.count() / 1000.0 << " s";
  return s.str();
}

std::string clean_message(std::exception_ptr e) {
  std::string msg;
  try {
    std::rethrow_exception(e);
  } catch (const c10::Error& err) {
    msg = err.what_without_backtrace();
  } catch (const std::exception& err) {
    msg = err.what();
  } catch (...) {
    msg = "unknown error";
  }
  auto nl = msg.find('\n');
  if (nl != std::string::npos) msg = msg.substr(0, nl);
  // Gloo: "[../third_party/gloo/gloo/transport/tcp/pair.cc:598] Connection closed by peer ..."
  if (!msg.empty() && msg[0] == '[') {
    auto close = msg.find("] ");
    if (close != std::string::npos && msg.substr(0, close).find(':') != std::string::npos) msg = msg.substr(close + 2);
  }
  while (!msg.empty() && (msg.back() == ' ' || msg.back() == '.')) msg.pop_back();
  return msg;
}

std::string process_tag() {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '?';
  return std::string(host) + ":" + std::to_string(getpid());
}

c10::intrusive_ptr<c10d::Store> connect_store(const LaunchInfo& launch, std::chrono::milliseconds timeout) {
  c10d::TCPStoreOptions opts;
  opts.port = static_cast<std::uint16_t>(launch.master_port);
  opts.timeout = timeout;
  opts.isServer = !launch.agent_store && launch.rank == 0;
  opts.waitWorkers = false;  // join() waits, with a better message
  if (opts.isServer) opts.numWorkers = static_cast<std::size_t>(launch.world_size);
  c10::intrusive_ptr<c10d::Store> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>(launch.master_addr, opts);
  } catch (...) {
    std::string cause = clean_message(std::current_exception());
    std::string r = "rank " + std::to_string(launch.rank) + ": ";
    if (opts.isServer && cause.find("failed to listen") != std::string::npos) {
      throw UsageError(r + "cannot host the rendezvous store on MASTER_PORT=" + std::to_string(launch.master_port) +
                       " (" + cause + "); choose a free port");
    }
    std::string host = launch.agent_store ? std::string(" (served by ") + launcher_name(launch.launcher) + ")"
                                          : std::string(" (hosted by rank 0)");
    throw UsageError(r + "cannot reach the rendezvous store at " + where(launch) + host + " within " +
                     seconds_text(timeout) + ": " + cause);
  }
  std::string prefix = launch.store_prefix.empty() ? "cnnkit" : launch.store_prefix + "/cnnkit";
  return c10::make_intrusive<c10d::PrefixStore>(prefix, store);
}

void join(c10d::Store& store, const LaunchInfo& launch, std::chrono::milliseconds timeout) {
  const std::string me = "rank " + std::to_string(launch.rank) + ": ";
  try {
    if (store.add("claim/" + std::to_string(launch.rank), 1) > 1) {
      throw UsageError(me + "another process already joined as rank " + std::to_string(launch.rank) +
                       " (check RANK / the launcher's rank variables)");
    }
    if (launch.rank == 0) store.set("world_size", bytes(std::to_string(launch.world_size)));
    store.set(rank_key(launch.rank), bytes(process_tag()));
  } catch (const Error&) {
    throw;
  } catch (...) {
    throw DistributedError(me + "rendezvous at " + where(launch) +
                           " failed: " + clean_message(std::current_exception()));
  }
  auto wait_or_fail = [&](const std::vector<std::string>& keys) {
    try {
      store.wait(keys, timeout);
      return;
    } catch (...) {
    }
    std::string missing;
    int joined = 0;
    try {
      for (int r = 0; r < launch.world_size; ++r) {
        if (store.check({rank_key(r)})) {
          ++joined;
        } else if (missing.size() < 200) {
          missing += (missing.empty() ? "" : ", ") + std::to_string(r);
        }
      }
    } catch (...) {
      throw DistributedError(me + "rendezvous at " + where(launch) +
                             " failed: " + clean_message(std::current_exception()));
    }
    throw DistributedError(me + "rendezvous timed out after " + seconds_text(timeout) + ": " + std::to_string(joined) +
                           " of " + std::to_string(launch.world_size) + " ranks joined; missing rank(s) " + missing +
                           " (not started, or started with another " + where(launch) + ")");
  };
  if (launch.rank != 0) {
    // Rank 0's world size first, so that a mismatch is reported as such rather than as a
    // rank that never comes.
    wait_or_fail({"world_size"});
    int root_world = std::stoi(text(store.get("world_size")));
    if (root_world != launch.world_size) {
      throw UsageError(me + "WORLD_SIZE " + std::to_string(launch.world_size) + " differs from rank 0's " +
                       std::to_string(root_world) + " (every rank must be started with the same world size)");
    }
  }
  std::vector<std::string> keys;
  for (int r = 0; r < launch.world_size; ++r) keys.push_back(rank_key(r));
  wait_or_fail(keys);
}

}  // namespace cnnkit::dist::detail
