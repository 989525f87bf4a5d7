#include "cnnkit/dist/context.h"

#include <c10/util/Logging.h>
#include <torch/csrc/distributed/c10d/HashStore.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include "cnnkit/core/error.h"
#include "cnnkit/dist/backend.h"
#include "cnnkit/dist/dist_error.h"
#include "cnnkit/dist/rendezvous.h"

namespace cnnkit::dist {

using Clock = std::chrono::steady_clock;

namespace {

constexpr int64_t kBroadcastBufferBytes = int64_t{250} << 20;  // DDP's broadcast_bucket_size
// How long a failing rank waits for the others' reports: 3 s, or half the timeout if shorter.
constexpr auto kDiagnosisWindow = std::chrono::milliseconds(3000);

// c10d reports connection retries and failures through glog (Debian) or c10's own logger
// (official builds) before throwing; the exception says the same in one line. Silenced while
// a Context lives unless CNNKIT_DIST_DEBUG is set.
class QuietC10Logs {
 public:
  QuietC10Logs() {
    const char* debug = std::getenv("CNNKIT_DIST_DEBUG");
    if (debug && *debug && std::string(debug) != "0") return;
    active_ = true;
    std::lock_guard<std::mutex> lock(mutex());
    if (users()++ > 0) return;
#ifdef C10_USE_GLOG
    saved() = FLAGS_minloglevel;
    FLAGS_minloglevel = std::max(saved(), 3);
#else
    saved() = c10::FLAGS_caffe2_log_level;
    c10::FLAGS_caffe2_log_level = std::max(saved(), 3);
#endif
  }
  ~QuietC10Logs() {
    if (!active_) return;
    std::lock_guard<std::mutex> lock(mutex());
    if (--users() > 0) return;
#ifdef C10_USE_GLOG
    FLAGS_minloglevel = saved();
#else
    c10::FLAGS_caffe2_log_level = saved();
#endif
  }
  QuietC10Logs(const QuietC10Logs&) = delete;
  QuietC10Logs& operator=(const QuietC10Logs&) = delete;

 private:
  // Several Contexts may live at once (tests run ranks as threads): the first saves the level,
  // the last restores it.
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static int& users() {
    static int n = 0;
    return n;
  }
  static int& saved() {
    static int level = 0;
    return level;
  }
  bool active_ = false;
};

// Groups tensors by (dtype, device) in order of first appearance, each group cut into chunks
// of at most `max_bytes`.
std::vector<std::vector<size_t>> coalesce_groups(const std::vector<torch::Tensor>& tensors, int64_t max_bytes) {
  std::vector<std::vector<size_t>> groups;
  std::map<std::tuple<int, int, int>, std::pair<size_t, int64_t>> open;  // key -> (group, bytes)
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    std::tuple<int, int, int> key{static_cast<int>(t.scalar_type()), static_cast<int>(t.device().type()),
                                  t.device().index()};
    int64_t bytes = t.numel() * static_cast<int64_t>(t.element_size());
    auto it = open.find(key);
    if (it == open.end() || it->second.second + bytes > max_bytes) {
      groups.emplace_back();
      it = open.insert_or_assign(key, std::make_pair(groups.size() - 1, int64_t{0})).first;
    }
    groups[it->second.first].push_back(i);
    it->second.second += bytes;
  }
  return groups;
}

torch::Tensor flatten(const std::vector<torch::Tensor>& tensors, const std::vector<size_t>& group) {
  std::vector<torch::Tensor> views;
  for (size_t i : group) views.push_back(tensors[i].reshape({-1}));
  return views.size() == 1 ? views[0].contiguous().clone() : torch::cat(views);
}

void unflatten_into(const torch::Tensor& flat, const std::vector<torch::Tensor>& tensors,
                    const std::vector<size_t>& group) {
  int64_t offset = 0;
  for (size_t i : group) {
    auto& t = const_cast<torch::Tensor&>(tensors[i]);
    t.copy_(flat.narrow(0, offset, t.numel()).view(t.sizes()));
    offset += t.numel();
  }
}

std::vector<torch::Tensor> module_parameters(const torch::nn::Module& module) {
  std::vector<torch::Tensor> out;
  for (const auto& p : module.parameters(true)) out.push_back(p);
  return out;
}

std::vector<torch::Tensor> module_buffers(const torch::nn::Module& module) {
  std::vector<torch::Tensor> out;
  for (const auto& b : module.buffers(true)) {
    if (b.defined()) out.push_back(b);
  }
  return out;
}

}  // namespace

struct PendingOp::State {
  c10::intrusive_ptr<c10d::Work> work;
  torch::Tensor tensor;  // kept alive while in flight
  std::string what;
};

PendingOp::PendingOp() = default;
PendingOp::~PendingOp() = default;
PendingOp::PendingOp(PendingOp&&) noexcept = default;
PendingOp& PendingOp::operator=(PendingOp&&) noexcept = default;

struct Context::Impl {
  QuietC10Logs quiet;  // first: outlives everything below
  LaunchInfo launch;
  ContextOptions options;
  c10::intrusive_ptr<c10d::Store> store;
  std::unique_ptr<detail::Backend> backend;
  std::string backend_name;
  CommStats stats;
  bool failed = false;

  std::string me() const { return "rank " + std::to_string(launch.rank) + ": "; }

  // Asks the store which ranks also failed; ranks that say nothing are dead or stuck.
  std::string diagnose(const std::string& cause) {
    if (launch.world_size <= 1) return "";
    try {
      const std::string mine = "failed/" + std::to_string(launch.rank);
      store->set(mine, std::vector<uint8_t>(cause.begin(), cause.end()));
      std::set<int> silent;
      for (int r = 0; r < launch.world_size; ++r) {
        if (r != launch.rank) silent.insert(r);
      }
      std::map<int, std::string> reports;
      const auto window = std::min<std::chrono::milliseconds>(kDiagnosisWindow, options.timeout / 2);
      auto deadline = Clock::now() + window;
      while (!silent.empty()) {
        for (auto it = silent.begin(); it != silent.end();) {
          std::string key = "failed/" + std::to_string(*it);
          if (store->check({key})) {
            auto v = store->get(key);
            reports[*it] = std::string(v.begin(), v.end());
            it = silent.erase(it);
          } else {
            ++it;
          }
        }
        if (silent.empty() || Clock::now() >= deadline) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      std::string out;
      auto list = [](const std::set<int>& ranks) {
        std::string s;
        int shown = 0;
        for (int r : ranks) {
          if (shown++ == 16) return s + ", ...";
          s += (s.empty() ? "" : ", ") + std::to_string(r);
        }
        return s;
      };
      if (!silent.empty()) {
        out += "; no word from rank" + std::string(silent.size() > 1 ? "s " : " ") + list(silent) + " within " +
               detail::seconds_text(window) + " (dead, or stuck outside communication: see its log)";
      }
      if (!reports.empty()) {
        out += "; rank " + std::to_string(reports.begin()->first) + " also failed: " + reports.begin()->second;
        if (reports.size() > 1) out += " (and " + std::to_string(reports.size() - 1) + " more)";
      }
      return out;
    } catch (...) {
      return "; the rendezvous store at " + launch.master_addr + ":" + std::to_string(launch.master_port) +
             (launch.agent_store ? " (served by the launcher) is gone: the launcher probably stopped"
                                 : " (hosted by rank 0) is unreachable: rank 0 probably died");
    }
  }

  double wait(const c10::intrusive_ptr<c10d::Work>& work, const std::string& what, Context& ctx) {
    auto start = Clock::now();
    try {
      work->wait();
    } catch (...) {
      ctx.fail(what, std::current_exception());
    }
    double s = std::chrono::duration<double>(Clock::now() - start).count();
    stats.wait_seconds += s;
    return s;
  }

  c10::intrusive_ptr<c10d::Work> issue(const std::string& what, Context& ctx,
                                       const std::function<c10::intrusive_ptr<c10d::Work>()>& call, int64_t bytes) {
    if (failed) throw DistributedError(me() + what + ": the process group already failed");
    ++stats.collectives;
    stats.bytes += bytes;
    try {
      return call();
    } catch (...) {
      ctx.fail(what, std::current_exception());
    }
  }
};

Context::Context(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Context::~Context() {
  if (impl_ && impl_->failed && impl_->backend) impl_->backend->leak();
}

std::shared_ptr<Context> Context::create(const LaunchInfo& launch, const ContextOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->launch = launch;
  impl->options = options;
  if (options.timeout.count() <= 0 || options.rendezvous_timeout.count() <= 0) {
    throw UsageError("distributed timeouts: must be positive");
  }
  if (launch.world_size <= 1) {
    impl->store = c10::make_intrusive<c10d::HashStore>();
  } else {
    impl->store = detail::connect_store(launch, options.rendezvous_timeout);
    detail::join(*impl->store, launch, options.rendezvous_timeout);
  }
  // Every rank has joined: Gloo's exchange of addresses (store reads, rendezvous timeout) and
  // its pair connections (the collective timeout) take moments now.
  impl->backend = detail::make_backend(options.backend, options.device, impl->store, launch, current_environment(),
                                       options.timeout);
  impl->backend_name = impl->backend->name();
  return std::shared_ptr<Context>(new Context(std::move(impl)));
}

int Context::rank() const { return impl_->launch.rank; }
int Context::world_size() const { return impl_->launch.world_size; }
int Context::local_rank() const { return impl_->launch.local_rank; }
int Context::local_world_size() const { return impl_->launch.local_world_size; }
const std::string& Context::backend() const { return impl_->backend_name; }
const LaunchInfo& Context::launch() const { return impl_->launch; }
std::chrono::milliseconds Context::timeout() const { return impl_->options.timeout; }
CommStats Context::stats() const { return impl_->stats; }

void Context::fail(const std::string& operation, std::exception_ptr cause) {
  std::string text = detail::clean_message(cause);
  // Our own errors (e.g. a second failure) pass through unchanged.
  try {
    std::rethrow_exception(cause);
  } catch (const Error&) {
    impl_->failed = true;
    throw;
  } catch (...) {
  }
  impl_->failed = true;
  // Gloo says "Timed out waiting 2000ms for recv operation" or "Application timeout caused pair
  // closure" depending on where it noticed; name the setting either way.
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower.find("timeout") != std::string::npos || lower.find("timed out") != std::string::npos) {
    text += " (collective timeout " + detail::seconds_text(impl_->options.timeout) + ")";
  }
  std::string peers = impl_->diagnose(operation + " failed: " + text);
  throw DistributedError(impl_->me() + operation + " failed (" + impl_->backend_name + "): " + text + peers);
}

void Context::broadcast(const std::vector<torch::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  for (const auto& group : coalesce_groups(tensors, kBroadcastBufferBytes)) {
    std::vector<torch::Tensor> flat{flatten(tensors, group)};
    auto work = impl_->issue(
        "broadcast", *this, [&] { return impl_->backend->broadcast(flat, 0); },
        flat[0].numel() * static_cast<int64_t>(flat[0].element_size()));
    impl_->wait(work, "broadcast from rank 0", *this);
    if (!is_root()) unflatten_into(flat[0], tensors, group);
  }
}

void Context::broadcast_parameters_and_buffers(const torch::nn::Module& module) {
  auto params = module_parameters(module);
  auto buffers = module_buffers(module);
  std::vector<torch::Tensor> all = params;
  all.insert(all.end(), buffers.begin(), buffers.end());
  // A fingerprint of what was built: counts, then per tensor (dims, sizes..., dtype), folded.
  std::vector<int64_t> fingerprint{static_cast<int64_t>(params.size()), static_cast<int64_t>(buffers.size())};
  // FNV-1a over 64-bit words, in unsigned arithmetic (wraps by definition; signed overflow would
  // be undefined behaviour, which UBSan reported).
  std::uint64_t shape_hash = 14695981039346656037ULL;
  int64_t numel = 0;
  for (const auto& t : all) {
    auto mix = [&](int64_t v) { shape_hash = (shape_hash ^ static_cast<std::uint64_t>(v)) * 1099511628211ULL; };
    mix(t.dim());
    for (auto s : t.sizes()) mix(s);
    mix(static_cast<int64_t>(t.scalar_type()));
    numel += t.numel();
  }
  fingerprint.push_back(numel);
  fingerprint.push_back(static_cast<int64_t>(shape_hash));  // the same bits on every rank
  check_same_across_ranks(fingerprint, "the model's parameters and buffers (count, shapes, dtypes)");
  broadcast(all);
}

void Context::broadcast_buffers(const torch::nn::Module& module) {
  auto buffers = module_buffers(module);
  if (!buffers.empty()) broadcast(buffers);
}

void Context::all_reduce_sum(const std::vector<torch::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  for (const auto& group : coalesce_groups(tensors, kBroadcastBufferBytes)) {
    std::vector<torch::Tensor> flat{flatten(tensors, group)};
    auto work = impl_->issue(
        "all-reduce", *this, [&] { return impl_->backend->allreduce(flat, c10d::ReduceOp::SUM); },
        flat[0].numel() * static_cast<int64_t>(flat[0].element_size()));
    impl_->wait(work, "all-reduce", *this);
    unflatten_into(flat[0], tensors, group);
  }
}

std::vector<double> Context::sum_across_ranks(const std::vector<double>& values) {
  if (values.empty()) return {};
  auto t = torch::tensor(values, torch::TensorOptions().dtype(torch::kFloat64)).to(impl_->options.device);
  all_reduce_sum({t});
  t = t.cpu();
  return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
}

bool Context::any_rank_stopping(bool stop_here) {
  auto t = torch::full({1}, stop_here ? 1 : 0, torch::TensorOptions().dtype(torch::kInt32)).to(impl_->options.device);
  std::vector<torch::Tensor> v{t};
  auto work = impl_->issue(
      "stop agreement", *this, [&] { return impl_->backend->allreduce(v, c10d::ReduceOp::SUM); }, 4);
  impl_->wait(work, "stop agreement", *this);
  return t.item<int>() > 0;
}

void Context::check_same_across_ranks(const std::vector<int64_t>& values, const std::string& what) {
  if (values.empty()) return;
  auto opts = torch::TensorOptions().dtype(torch::kInt64);
  auto lo = torch::tensor(values, opts).to(impl_->options.device);
  auto hi = lo.clone();
  std::vector<torch::Tensor> vlo{lo}, vhi{hi};
  int64_t bytes = static_cast<int64_t>(values.size() * sizeof(int64_t));
  auto w1 = impl_->issue(
      "consistency check", *this, [&] { return impl_->backend->allreduce(vlo, c10d::ReduceOp::MIN); }, bytes);
  impl_->wait(w1, "consistency check of " + what, *this);
  auto w2 = impl_->issue(
      "consistency check", *this, [&] { return impl_->backend->allreduce(vhi, c10d::ReduceOp::MAX); }, bytes);
  impl_->wait(w2, "consistency check of " + what, *this);
  if (!torch::equal(lo, hi)) {
    auto l = lo.cpu(), h = hi.cpu();
    for (int64_t i = 0; i < l.numel(); ++i) {
      if (l[i].item<int64_t>() != h[i].item<int64_t>()) {
        throw ConfigError(impl_->me() + what + " differ across ranks (item " + std::to_string(i) + ": " +
                          std::to_string(values[i]) + " here, between " + std::to_string(l[i].item<int64_t>()) +
                          " and " + std::to_string(h[i].item<int64_t>()) +
                          " over all ranks); every rank must run the same config");
      }
    }
  }
}

void Context::barrier() {
  auto work = impl_->issue(
      "barrier", *this, [&] { return impl_->backend->barrier(); }, 0);
  impl_->wait(work, "barrier", *this);
}

PendingOp Context::all_reduce_async(const torch::Tensor& flat, const std::string& what) {
  PendingOp op;
  op.state_ = std::make_unique<PendingOp::State>();
  op.state_->tensor = flat;
  op.state_->what = what;
  std::vector<torch::Tensor> v{flat};
  op.state_->work = impl_->issue(
      "all-reduce of " + what, *this, [&] { return impl_->backend->allreduce(v, c10d::ReduceOp::SUM); },
      flat.numel() * static_cast<int64_t>(flat.element_size()));
  return op;
}

double Context::wait(PendingOp& op) {
  if (!op.valid()) return 0;
  auto state = std::move(op.state_);
  return impl_->wait(state->work, "all-reduce of " + state->what, *this);
}

}  // namespace cnnkit::dist
