// steps.csv (train/step_log.h): the running training loss, accuracy and learning rate every
// few steps, rewritten at the end of every epoch and on an interrupt. A resumed run keeps the
// rows up to its checkpoint's step. Reading the epoch meter synchronises with the device, so on
// a GPU a row covers at least kMinDeviceInterval steps.
#include <algorithm>
#include <filesystem>

#include "cnnkit/train/observer.h"
#include "cnnkit/train/step_log.h"

namespace cnnkit {
namespace {

constexpr std::int64_t kMinDeviceInterval = 10;

class StepLog : public TrainingObserver {
 public:
  void on_train_begin(TrainingRun& run) override {
    path_ = (std::filesystem::path(run.run_dir) / "steps.csv").string();
    const std::int64_t planned = std::max<std::int64_t>(1, run.tc.epochs) * std::max<std::int64_t>(1, run.steps_per_epoch);
    interval_ = std::max<std::int64_t>(1, (planned + kMaxStepRows / 2 - 1) / static_cast<std::int64_t>(kMaxStepRows / 2));
    if (!run.device.is_cpu()) interval_ = std::max(interval_, kMinDeviceInterval);
    if (run.state.step > 0) {  // resumed: keep what the checkpoint had done
      rows_ = read_step_log(path_);
      rows_.erase(std::remove_if(rows_.begin(), rows_.end(), [&](const StepRow& r) { return r.step > run.state.step; }),
                  rows_.end());
      for (std::size_t i = rows_.size() > 8 ? rows_.size() - 8 : 1; i < rows_.size(); ++i)
        interval_ = std::max(interval_, rows_[i].step - rows_[i - 1].step);
    }
  }
  void on_epoch_begin(TrainingRun& run, int) override {
    const PartialEpoch& carried = run.state.partial;  // what a resumed epoch had done already
    base_loss_ = carried.batch > 0 ? carried.loss_sum : 0.0;
    base_correct_ = carried.batch > 0 ? carried.correct : 0;
    base_seen_ = carried.batch > 0 ? carried.seen : 0;
    pending_ = 0;
  }
  void on_step_end(TrainingRun& run, const StepEvent& e) override {
    ++pending_;
    if (pending_ >= interval_ || e.batch == run.steps_per_epoch) record(run, e.epoch, e.batch, e.meter);
    last_ = &e.meter;
    last_epoch_ = e.epoch;
    last_batch_ = e.batch;
  }
  void on_epoch_end(TrainingRun&, const EpochReport&) override {
    last_ = nullptr;
    write_step_log(path_, rows_);
  }
  void on_interrupt(TrainingRun& run, const InterruptEvent&) override {
    if (pending_ > 0 && last_) record(run, last_epoch_, last_batch_, *last_);
    write_step_log(path_, rows_);
  }

 private:
  void record(const TrainingRun& run, int epoch, std::int64_t batch, const EpochMeter& meter) {
    const double loss_sum = meter.loss_sum();
    const std::int64_t correct = meter.correct(), seen = meter.seen();
    const std::int64_t images = seen - base_seen_;
    pending_ = 0;
    if (images <= 0) return;
    StepRow r;
    r.step = run.state.step;
    r.epoch = (epoch - 1) + static_cast<double>(batch) / static_cast<double>(std::max<std::int64_t>(1, run.steps_per_epoch));
    r.images = images;
    r.loss = (loss_sum - base_loss_) / static_cast<double>(images);
    r.accuracy = static_cast<double>(correct - base_correct_) / static_cast<double>(images);
    r.lr = run.scheduled_lr(std::max<std::int64_t>(0, run.state.step - 1));
    rows_.push_back(r);
    base_loss_ = loss_sum;
    base_correct_ = correct;
    base_seen_ = seen;
    if (rows_.size() >= kMaxStepRows) {
      merge_step_pairs(rows_);
      interval_ *= 2;
    }
  }

  std::string path_;
  std::vector<StepRow> rows_;
  std::int64_t interval_ = 1, pending_ = 0;
  double base_loss_ = 0;
  std::int64_t base_correct_ = 0, base_seen_ = 0;
  const EpochMeter* last_ = nullptr;  // the loop's meter, valid during an epoch
  int last_epoch_ = 0;
  std::int64_t last_batch_ = 0;
};

// After the checkpoints (15), before the curves (40) that draw it.
ObserverRegistrar registrar("step_log", 16, [](const TrainingRun&) { return std::make_unique<StepLog>(); });

}  // namespace
}  // namespace cnnkit
