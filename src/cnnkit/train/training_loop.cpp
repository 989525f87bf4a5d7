#include "cnnkit/train/training_loop.h"

#include <torch/torch.h>

#include <chrono>
#include <csignal>

#include "cnnkit/core/interrupt.h"
#include "cnnkit/train/data_parallel.h"
#include "cnnkit/train/optimizer.h"

namespace cnnkit {
namespace {

using Clock = std::chrono::steady_clock;

// Off the CPU the loss is not read back every step; check it this often instead.
constexpr std::int64_t kFiniteCheckInterval = 100;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

TrainingLoop::TrainingLoop(TrainingRun& run, ObserverList& observers, DataParallel* parallel)
    : run_(run),
      observers_(observers),
      parallel_(parallel),
      step_(run.model, *run.optimizer, StepOptions::from(run.tc, run.device)),
      last_checkpoint_(run.last_checkpoint()) {
  step_.set_gradient_sync(parallel);
}

void TrainingLoop::run() {
  observers_.each([&](TrainingObserver& o) { o.on_train_begin(run_); });
  while (run_.state.epoch < run_.tc.epochs && !run_.stop_requested) {
    const int epoch = run_.state.epoch + 1;
    const double seconds = train_epoch(epoch);
    end_epoch(epoch, seconds);
  }
  observers_.each([&](TrainingObserver& o) { o.on_fit_end(run_); });  // may save last.pt (rank 0)
  if (parallel_) parallel_->barrier();
}

EvalOptions TrainingLoop::eval_options() const { return run_.eval_options(); }

bool TrainingLoop::stop_requested() {
  return parallel_ ? parallel_->any_rank_stopping(interrupt_requested()) : interrupt_requested();
}

PartialEpoch TrainingLoop::epoch_sums() {
  PartialEpoch p;
  p.loss_sum = meter_.loss_sum();
  p.correct = meter_.correct();
  p.seen = meter_.counted();
  if (parallel_) {
    const auto all = parallel_->sum({p.loss_sum, static_cast<double>(p.correct), static_cast<double>(p.seen)});
    p.loss_sum = all[0];
    p.correct = static_cast<std::int64_t>(all[1]);
    p.seen = static_cast<std::int64_t>(all[2]);
  }
  return p;
}

double TrainingLoop::train_epoch(int epoch) {
  LoopState& st = run_.state;
  const PartialEpoch carried = st.partial;  // a resumed epoch continues where it stopped
  const std::int64_t n = run_.train_size(), batch_size = run_.tc.batch_size;
  const torch::Tensor perm = carried.batch > 0 ? carried.perm : torch::randperm(n, run_.gen, torch::kInt64);
  run_.model.net->train();
  meter_.reset(run_.device, carried, /*carry_sums=*/!parallel_ || parallel_->is_root());
  observers_.each([&](TrainingObserver& o) { o.on_epoch_begin(run_, epoch); });
  const auto t0 = Clock::now();
  for (std::int64_t b = carried.batch; b < run_.steps_per_epoch; ++b) {
    // The global batch b; a data-parallel rank takes its shard of it.
    std::int64_t start = b * batch_size, end = std::min(n, start + batch_size);
    const std::int64_t images = end - start;
    double weight = 1.0;
    at::Generator* augment = &run_.gen;
    if (parallel_) {
      const auto [lo, hi] = parallel_->shard(images);
      end = start + hi;
      start += lo;
      weight = parallel_->loss_weight(hi - lo, images);
      augment = &parallel_->seed_step(run_.tc.seed, st.step, run_.device);
    }
    const auto idx = perm.slice(0, start, end);
    const auto x = run_.pipeline->batch(run_.data.train, idx, /*train=*/true, *augment);
    const auto y = run_.data.train.labels.index_select(0, idx).to(run_.device, /*non_blocking=*/true);
    set_learning_rate(*run_.optimizer, run_.scheduled_lr(st.step), run_.lr_scales);
    const StepPosition where{epoch, b + 1, &last_checkpoint_};
    StepResult r = step_(x, y, where, weight);
    ++st.step;
    meter_.add(r.loss, r.logits, y, images);
    const StepEvent event{epoch, b + 1, meter_};
    observers_.each([&](TrainingObserver& o) { o.on_step_end(run_, event); });
    if (!step_.options().check_every_step && (b + 1) % kFiniteCheckInterval == 0 && !std::isfinite(meter_.loss()))
      throw non_finite_loss(meter_.loss(), where, /*exact=*/false);
    if (stop_requested()) interrupt(epoch, b + 1, perm, carried.seconds + seconds_since(t0));
  }
  return carried.seconds + seconds_since(t0);
}

void TrainingLoop::end_epoch(int epoch, double seconds) {
  LoopState& st = run_.state;
  const PartialEpoch sums = epoch_sums();
  const double count = static_cast<double>(std::max<std::int64_t>(1, sums.seen));
  const double train_loss = sums.loss_sum / count, train_accuracy = static_cast<double>(sums.correct) / count;
  if (!std::isfinite(train_loss))
    throw non_finite_loss(train_loss, {epoch, run_.steps_per_epoch, &last_checkpoint_}, /*exact=*/false);
  st.partial = PartialEpoch{};
  st.elapsed += seconds;
  if (parallel_) {
    parallel_->broadcast_buffers();  // evaluate and save with rank 0's batch-norm statistics
    parallel_->check_replicas("after epoch " + std::to_string(epoch));
  }
  // The monitoring figures: val_* on the validation split, or test_* when there is none (then
  // they are for watching only: nothing is selected by them). Weight sets kept by observers
  // (e.g. ema) are evaluated too, as <set>_val_* / <set>_test_*.
  // With validate_every N, only every N-th epoch and the last are evaluated; the others' rows
  // have no monitoring figures.
  const std::string m = run_.monitor_prefix();
  const int every = run_.tc.validate_every;
  const bool validate = every > 0 && (epoch % every == 0 || epoch == run_.tc.epochs);
  const EvalResult val = validate ? run_.evaluate_weights(kRawWeights, run_.validation_set()) : EvalResult{};
  nlohmann::json row = {{"epoch", epoch}, {"train_loss", train_loss}, {"train_accuracy", train_accuracy}};
  if (validate) {
    row[m + "_loss"] = val.loss;
    row[m + "_accuracy"] = val.top1;
  }
  double chosen_accuracy = validate ? val.top1 : -1.0;  // of the run's default weights
  for (const auto& [name, ws] : run_.weight_sets) {
    if (!validate) break;
    const bool decides_best = run_.has_validation && name == run_.default_weights;
    if (!ws.validate && !decides_best) continue;
    const EvalResult r = run_.evaluate_weights(name, run_.validation_set());
    row[name + "_" + m + "_loss"] = r.loss;
    row[name + "_" + m + "_accuracy"] = r.top1;
    if (name == run_.default_weights) chosen_accuracy = r.top1;
  }
  row["lr"] = run_.scheduled_lr(std::max<std::int64_t>(0, st.step - 1));
  row["seconds"] = seconds;
  row["images_per_second"] = static_cast<double>(run_.train_size()) / std::max(1e-9, seconds);
  st.epoch = epoch;
  run_.history.push_back(row);
  // best.pt is chosen on the validation split only, never on the test split.
  const bool is_best = run_.has_validation && chosen_accuracy > st.best_val_accuracy;
  if (is_best) {
    st.best_val_accuracy = chosen_accuracy;
    st.best_epoch = epoch;
  }
  const EpochReport report{epoch, row, val, is_best};
  observers_.each([&](TrainingObserver& o) { o.on_epoch_end(run_, report); });
  if (parallel_) parallel_->barrier();  // rank 0 has saved this epoch's checkpoint
}

void TrainingLoop::interrupt(int epoch, std::int64_t batch, const torch::Tensor& perm, double seconds) {
  PartialEpoch partial = epoch_sums();
  partial.batch = batch;
  partial.seconds = seconds;
  partial.perm = perm;
  run_.state.partial = partial;
  const InterruptEvent event{interrupt_signal(), epoch, batch};
  observers_.each([&](TrainingObserver& o) { o.on_interrupt(run_, event); });
  if (parallel_) parallel_->barrier();  // rank 0 has saved last.pt
  const std::string sig = event.signal == SIGTERM ? "SIGTERM"
                          : event.signal == 0     ? "a signal to another rank"
                                                  : "SIGINT";
  throw InterruptedError("interrupted by " + sig + " at epoch " + std::to_string(epoch) + ", batch " +
                         std::to_string(batch) + "/" + std::to_string(run_.steps_per_epoch) + "; checkpoint saved to " +
                         last_checkpoint_ + "; continue with: cnnkit train --resume " + run_.run_dir);
}

}  // namespace cnnkit
