// What the benchmarks share for timing: a steady clock, waiting for the device, medians.
#pragma once
#include <algorithm>
#include <chrono>
#include <vector>

#include <torch/torch.h>

namespace cnnkit::bench_timing {

using Clock = std::chrono::steady_clock;

// Waits for queued CUDA work, so that a clock reading covers it; nothing on the CPU.
inline void sync(c10::Device d) {
  if (d.is_cuda()) torch::cuda::synchronize(d.index());
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace cnnkit::bench_timing
