#include "cnnkit/dist/gradient_sync.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <chrono>
#include <exception>
#include <mutex>
#include <string>
#include <unordered_set>

#include "cnnkit/core/error.h"
#include "cnnkit/dist/dist_error.h"

namespace cnnkit::dist {

struct GradientSync::Impl {
  struct Slot {
    size_t bucket = 0;
    int64_t offset = 0;       // first gradient element in the bucket's flat buffer
    int64_t flag_offset = 0;  // this parameter's usage flag in the same buffer
  };
  struct BucketState {
    torch::Tensor flat;  // [gradients..., one flag per parameter]
    std::vector<size_t> params;
    size_t pending = 0;  // parameters whose gradient has not arrived in this backward
    bool launched = false;
    bool stale = false;  // a gradient changed after launch (second backward)
    PendingOp op;
  };

  std::shared_ptr<Context> ctx;
  std::vector<torch::Tensor> params;  // those that require grad, in registration order
  std::vector<Bucket> plan;           // indices into the caller's list
  std::vector<Slot> slots;
  std::vector<BucketState> buckets;
  std::vector<char> ready;
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators;
  std::vector<uintptr_t> hook_keys;
  size_t next_launch = 0;
  bool armed = false;
  std::exception_ptr hook_error;
  std::mutex mutex;
  GradientSyncStats stats;

  void copy_in(size_t i) {
    const Slot& s = slots[i];
    BucketState& b = buckets[s.bucket];
    const auto& p = params[i];
    const auto& g = p.grad();
    auto view = b.flat.narrow(0, s.offset, p.numel());
    if (g.defined()) {
      if (g.is_sparse()) throw Error("gradient synchronisation: sparse gradients are not supported");
      view.view(p.sizes()).copy_(g);
      b.flat.narrow(0, s.flag_offset, 1).fill_(1);
    } else {
      view.zero_();
      b.flat.narrow(0, s.flag_offset, 1).fill_(0);
    }
  }

  void launch(size_t index, bool early) {
    BucketState& b = buckets[index];
    if (ctx->world_size() > 1) b.flat.div_(ctx->world_size());
    b.op = ctx->all_reduce_async(b.flat, "gradient bucket " + std::to_string(index));
    b.launched = true;
    ++(early ? stats.early_launches : stats.late_launches);
  }

  void launch_ready_in_order() {
    while (next_launch < buckets.size() && buckets[next_launch].pending == 0) launch(next_launch++, true);
  }

  // Called by the autograd engine once parameter i's gradient is accumulated.
  void on_ready(size_t i) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed || hook_error) return;
    try {
      BucketState& b = buckets[slots[i].bucket];
      if (ready[i]) {  // a second backward after prepare_for_backward()
        if (b.launched) {
          b.stale = true;
        } else {
          copy_in(i);
        }
        return;
      }
      ready[i] = 1;
      copy_in(i);
      if (--b.pending == 0) launch_ready_in_order();
    } catch (...) {
      hook_error = std::current_exception();  // rethrown by finish_gradient_sync()
    }
  }

  // The engine only calls hooks on the accumulator a parameter has now; one replaced since
  // construction (Module::to with another dtype or device) would silently skip the sync.
  void check_accumulators() const {
    for (size_t i = 0; i < params.size(); ++i) {
      if (torch::autograd::impl::try_get_grad_accumulator(params[i]) != accumulators[i]) {
        throw Error(
            "gradient synchronisation: a parameter changed dtype or device after the GradientSync was "
            "made; make it after moving the model");
      }
    }
  }

  void reset() {
    armed = false;
    hook_error = nullptr;
    next_launch = 0;
    std::fill(ready.begin(), ready.end(), 0);
    for (auto& b : buckets) {
      b.pending = b.params.size();
      b.launched = false;
      b.stale = false;
      b.op = PendingOp();
    }
  }

  void copy_out() {
    torch::NoGradGuard no_grad;
    for (auto& b : buckets) {
      const int64_t n = static_cast<int64_t>(b.params.size());
      auto flags = b.flat.narrow(0, slots[b.params.front()].flag_offset, n).to(torch::kCPU, torch::kFloat);
      auto f = flags.accessor<float, 1>();
      for (int64_t k = 0; k < n; ++k) {
        if (f[k] <= 0) continue;  // no rank has a gradient for it: leave .grad as it is (undefined)
        size_t i = b.params[k];
        auto& p = params[i];
        auto view = b.flat.narrow(0, slots[i].offset, p.numel()).view(p.sizes());
        auto& grad = p.mutable_grad();
        if (!grad.defined()) grad = torch::zeros_like(p);
        grad.copy_(view);
      }
    }
  }
};

namespace {

class ReadyHook final : public torch::autograd::FunctionPostHook {
 public:
  ReadyHook(GradientSync::Impl* impl, size_t index) : impl_(impl), index_(index) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list& /*inputs*/) override {
    impl_->on_ready(index_);
    return outputs;
  }

 private:
  GradientSync::Impl* impl_;
  size_t index_;
};

}  // namespace

GradientSync::GradientSync(std::shared_ptr<Context> context, const std::vector<torch::Tensor>& parameters,
                           const BucketOptions& options)
    : impl_(std::make_unique<Impl>()) {
  auto& m = *impl_;
  m.ctx = std::move(context);
  std::vector<size_t> original;
  for (size_t k = 0; k < parameters.size(); ++k) {
    if (!parameters[k].requires_grad()) continue;
    if (!parameters[k].is_leaf())
      throw Error("gradient synchronisation: parameter " + std::to_string(k) + " is not a leaf tensor");
    m.params.push_back(parameters[k]);
    original.push_back(k);
  }
  auto plan = plan_buckets(m.params, options);
  m.slots.resize(m.params.size());
  for (size_t bi = 0; bi < plan.size(); ++bi) {
    const Bucket& bucket = plan[bi];
    Impl::BucketState state;
    state.params = bucket.params;
    int64_t offset = 0;
    for (size_t i : bucket.params) {
      m.slots[i] = {bi, offset, 0};
      offset += m.params[i].numel();
    }
    for (size_t k = 0; k < bucket.params.size(); ++k)
      m.slots[bucket.params[k]].flag_offset = offset + static_cast<int64_t>(k);
    state.flat = torch::zeros({offset + static_cast<int64_t>(bucket.params.size())},
                              torch::TensorOptions().dtype(bucket.dtype).device(bucket.device));
    m.stats.bytes_per_step += state.flat.numel() * static_cast<int64_t>(state.flat.element_size());
    m.buckets.push_back(std::move(state));
    Bucket pub = bucket;
    for (auto& i : pub.params) i = original[i];
    m.plan.push_back(std::move(pub));
  }
  m.ready.assign(m.params.size(), 0);
  m.reset();
  for (size_t i = 0; i < m.params.size(); ++i) {
    auto acc = torch::autograd::impl::grad_accumulator(m.params[i]);
    if (!acc)
      throw Error("gradient synchronisation: no gradient accumulator for parameter " + std::to_string(original[i]));
    m.hook_keys.push_back(acc->add_post_hook(std::make_unique<ReadyHook>(impl_.get(), i)));
    m.accumulators.push_back(std::move(acc));
  }
}

GradientSync::~GradientSync() {
  for (size_t i = 0; i < impl_->accumulators.size(); ++i) impl_->accumulators[i]->del_post_hook(impl_->hook_keys[i]);
}

void GradientSync::prepare_for_backward() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->check_accumulators();
  impl_->reset();
  impl_->armed = true;
}

void GradientSync::prepare_for_backward(const torch::Tensor& loss) {
  auto& m = *impl_;
  std::unordered_set<const torch::autograd::Node*> reachable;
  if (loss.defined() && loss.grad_fn()) {
    std::vector<torch::autograd::Node*> stack{loss.grad_fn().get()};
    reachable.insert(stack.back());
    while (!stack.empty()) {
      auto* node = stack.back();
      stack.pop_back();
      for (const auto& edge : node->next_edges()) {
        auto* next = edge.function.get();
        if (next && reachable.insert(next).second) stack.push_back(next);
      }
    }
  }
  std::lock_guard<std::mutex> lock(m.mutex);
  m.check_accumulators();
  m.reset();
  m.armed = true;
  try {
    for (size_t i = 0; i < m.params.size(); ++i) {
      if (reachable.count(m.accumulators[i].get())) continue;
      m.ready[i] = 1;
      m.copy_in(i);
      --m.buckets[m.slots[i].bucket].pending;
    }
    m.launch_ready_in_order();
  } catch (...) {
    m.hook_error = std::current_exception();
  }
}

void GradientSync::finish_gradient_sync() {
  auto& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mutex);
  struct ResetOnExit {
    Impl& m;
    ~ResetOnExit() { m.reset(); }
  } reset_on_exit{m};
  if (m.hook_error) std::rethrow_exception(m.hook_error);
  // Parameters whose hook did not fire (no gradient in this backward, or no armed backward):
  // their current .grad (or zeros, flagged unused), then the remaining buckets in order.
  for (size_t bi = m.next_launch; bi < m.buckets.size(); ++bi) {
    for (size_t i : m.buckets[bi].params) {
      if (!m.ready[i]) m.copy_in(i);
    }
    m.buckets[bi].pending = 0;
  }
  while (m.next_launch < m.buckets.size()) m.launch(m.next_launch++, false);
  double waited = 0;
  for (auto& b : m.buckets) waited += m.ctx->wait(b.op);
  for (size_t bi = 0; bi < m.buckets.size(); ++bi) {
    auto& b = m.buckets[bi];
    if (!b.stale) continue;
    for (size_t i : b.params) m.copy_in(i);
    if (m.ctx->world_size() > 1) b.flat.div_(m.ctx->world_size());
    b.op = m.ctx->all_reduce_async(b.flat, "gradient bucket " + std::to_string(bi) + " (second backward)");
    ++m.stats.repeated_reductions;
  }
  for (auto& b : m.buckets) {
    if (b.stale) waited += m.ctx->wait(b.op);
  }
  m.copy_out();
  ++m.stats.steps;
  m.stats.last_wait_seconds = waited;
  m.stats.total_wait_seconds += waited;
}

const std::vector<Bucket>& GradientSync::buckets() const { return impl_->plan; }

GradientSyncStats GradientSync::stats() const { return impl_->stats; }

}  // namespace cnnkit::dist
