#include "cnnkit/train/training_loop.h"

#include <torch/torch.h>

#include <chrono>
#include <csignal>

#include "cnnkit/core/interrupt.h"
#include "cnnkit/train/optimizer.h"

namespace cnnkit {
namespace {

using Clock = std::chrono::steady_clock;

// Off the CPU the loss is not read back every step; check it this often instead.
constexpr std::int64_t kFiniteCheckInterval = 100;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

TrainingLoop::TrainingLoop(TrainingRun& run, ObserverList& observers)
    : run_(run),
      observers_(observers),
      step_(run.model, *run.optimizer, StepOptions::from(run.tc, run.device)),
      last_checkpoint_(run.last_checkpoint()) {}

void TrainingLoop::run() {
  observers_.each([&](TrainingObserver& o) { o.on_train_begin(run_); });
  while (run_.state.epoch < run_.tc.epochs && !run_.stop_requested) {
    const int epoch = run_.state.epoch + 1;
    const double seconds = train_epoch(epoch);
    end_epoch(epoch, seconds);
  }
  observers_.each([&](TrainingObserver& o) { o.on_fit_end(run_); });
}

double TrainingLoop::train_epoch(int epoch) {
  LoopState& st = run_.state;
  const PartialEpoch carried = st.partial;  // a resumed epoch continues where it stopped
  const std::int64_t n = run_.train_size(), batch_size = run_.tc.batch_size;
  const torch::Tensor perm = carried.batch > 0 ? carried.perm : torch::randperm(n, run_.gen, torch::kInt64);
  run_.model.net->train();
  meter_.reset(run_.device, carried);
  observers_.each([&](TrainingObserver& o) { o.on_epoch_begin(run_, epoch); });
  const auto t0 = Clock::now();
  for (std::int64_t b = carried.batch; b < run_.steps_per_epoch; ++b) {
    const std::int64_t start = b * batch_size, end = std::min(n, start + batch_size);
    const auto idx = perm.slice(0, start, end);
    const auto x = run_.pipeline->batch(run_.data.train, idx, /*train=*/true, run_.gen);
    const auto y = run_.data.train.labels.index_select(0, idx).to(run_.device, /*non_blocking=*/true);
    set_learning_rate(*run_.optimizer, run_.scheduled_lr(st.step));
    const StepPosition where{epoch, b + 1, &last_checkpoint_};
    StepResult r = step_(x, y, where);
    ++st.step;
    meter_.add(r.loss, r.logits, y);
    const StepEvent event{epoch, b + 1, meter_};
    observers_.each([&](TrainingObserver& o) { o.on_step_end(run_, event); });
    if (!step_.options().check_every_step && (b + 1) % kFiniteCheckInterval == 0 && !std::isfinite(meter_.loss()))
      throw non_finite_loss(meter_.loss(), where, /*exact=*/false);
    if (interrupt_requested()) interrupt(epoch, b + 1, perm, carried.seconds + seconds_since(t0));
  }
  return carried.seconds + seconds_since(t0);
}

void TrainingLoop::end_epoch(int epoch, double seconds) {
  LoopState& st = run_.state;
  const double train_loss = meter_.loss(), train_accuracy = meter_.accuracy();
  if (!std::isfinite(train_loss))
    throw non_finite_loss(train_loss, {epoch, run_.steps_per_epoch, &last_checkpoint_}, /*exact=*/false);
  st.partial = PartialEpoch{};
  st.elapsed += seconds;
  EvalOptions eval_options;
  eval_options.batch_size = run_.tc.eval_batch_size;
  eval_options.channels_last = run_.tc.channels_last;
  eval_options.bf16 = run_.tc.bf16();
  const EvalResult val =
      evaluate(run_.model, run_.validation_set(), *run_.pipeline, run_.device, run_.data.class_names, eval_options);
  const nlohmann::json row = {{"epoch", epoch},
                              {"train_loss", train_loss},
                              {"train_accuracy", train_accuracy},
                              {"val_loss", val.loss},
                              {"val_accuracy", val.top1},
                              {"lr", run_.scheduled_lr(std::max<std::int64_t>(0, st.step - 1))},
                              {"seconds", seconds},
                              {"images_per_second", static_cast<double>(run_.train_size()) / std::max(1e-9, seconds)}};
  st.epoch = epoch;
  run_.history.push_back(row);
  const bool is_best = val.top1 > st.best_val_accuracy;
  if (is_best) {
    st.best_val_accuracy = val.top1;
    st.best_epoch = epoch;
  }
  const EpochReport report{epoch, row, val, is_best};
  observers_.each([&](TrainingObserver& o) { o.on_epoch_end(run_, report); });
}

void TrainingLoop::interrupt(int epoch, std::int64_t batch, const torch::Tensor& perm, double seconds) {
  run_.state.partial = PartialEpoch{batch, meter_.loss_sum(), meter_.correct(), meter_.seen(), seconds, perm};
  const InterruptEvent event{interrupt_signal(), epoch, batch};
  observers_.each([&](TrainingObserver& o) { o.on_interrupt(run_, event); });
  const std::string sig = event.signal == SIGTERM ? "SIGTERM" : "SIGINT";
  throw InterruptedError("interrupted by " + sig + " at epoch " + std::to_string(epoch) + ", batch " +
                         std::to_string(batch) + "/" + std::to_string(run_.steps_per_epoch) + "; checkpoint saved to " +
                         last_checkpoint_ + "; continue with: cnnkit train --resume " + run_.run_dir);
}

}  // namespace cnnkit
