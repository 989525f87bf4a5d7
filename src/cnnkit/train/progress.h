// Training progress on stderr. On a terminal: one bar per epoch, redrawn in place with loss,
// accuracy, images/s and ETA. Otherwise: a plain line now and then inside long epochs.
// Quiet mode prints nothing. Epoch summaries are logged by the trainer.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace cnnkit {

class Progress {
 public:
  Progress(bool enabled, bool terminal);
  void begin_epoch(int epoch, int epochs, std::int64_t steps, std::int64_t images);
  // Cheap to call every step; draws at most ~8 times a second (terminal) or every 30 s.
  bool wants_update() const;
  void update(std::int64_t step, std::int64_t images_done, double loss, double accuracy);
  void end_epoch();

 private:
  bool enabled_, terminal_;
  int epoch_ = 0, epochs_ = 0;
  std::int64_t steps_ = 0, images_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool drawn_ = false;
};

std::string format_duration(double seconds);

}  // namespace cnnkit
