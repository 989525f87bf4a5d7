#include "cnnkit/train/progress.h"

#include <cstdio>

namespace cnnkit {

std::string format_duration(double s) {
  if (s < 0) s = 0;
  long long t = static_cast<long long>(s + 0.5);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", t / 3600, (t / 60) % 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%lld:%02lld", t / 60, t % 60);
  return buf;
}

Progress::Progress(bool enabled, bool terminal) : enabled_(enabled), terminal_(terminal) {}

void Progress::begin_epoch(int epoch, int epochs, std::int64_t steps, std::int64_t images) {
  epoch_ = epoch;
  epochs_ = epochs;
  steps_ = steps;
  images_ = images;
  start_ = last_draw_ = std::chrono::steady_clock::now();
  drawn_ = false;
}

bool Progress::wants_update() const {
  if (!enabled_) return false;
  double since = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_draw_).count();
  return since >= (terminal_ ? 0.125 : 30.0);
}

void Progress::update(std::int64_t step, std::int64_t done, double loss, double accuracy) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  last_draw_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  double eta = rate > 0 ? static_cast<double>(images_ - done) / rate : 0.0;
  double frac = images_ ? static_cast<double>(done) / static_cast<double>(images_) : 0.0;
  char buf[256];
  if (terminal_) {
    const int width = 24;
    int filled = static_cast<int>(frac * width);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar += std::string(static_cast<std::size_t>(width - filled), '.');
    std::snprintf(buf, sizeof buf, "\r\033[Kepoch %d/%d [%s] %3.0f%%  loss %.4f  acc %.2f%%  %.0f img/s  ETA %s", epoch_,
                  epochs_, bar.c_str(), 100 * frac, loss, 100 * accuracy, rate, format_duration(eta).c_str());
    std::fputs(buf, stderr);
    drawn_ = true;
  } else {
    std::snprintf(buf, sizeof buf, "epoch %d/%d: step %lld/%lld (%.0f%%)  loss %.4f  acc %.2f%%  %.0f img/s  ETA %s\n",
                  epoch_, epochs_, static_cast<long long>(step), static_cast<long long>(steps_), 100 * frac, loss,
                  100 * accuracy, rate, format_duration(eta).c_str());
    std::fputs(buf, stderr);
  }
  std::fflush(stderr);
}

void Progress::end_epoch() {
  if (enabled_ && terminal_ && drawn_) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  }
}

}  // namespace cnnkit
