// Arithmetic on sizes that cannot overflow, and the machine's memory, for refusing absurd
// sizes (IDX headers, layer sizes, image dimensions) before anything large is allocated.
#pragma once
#include <cstdint>
#include <limits>

namespace cnnkit {

constexpr std::int64_t kSizeSaturated = std::numeric_limits<std::int64_t>::max();

// a * b and a + b for non-negative values, saturating at kSizeSaturated instead of overflowing.
inline std::int64_t sat_mul(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r)) return kSizeSaturated;
  return r;
}
inline std::int64_t sat_add(std::int64_t a, std::int64_t b) {
  std::int64_t r;
  if (a < 0 || b < 0 || __builtin_add_overflow(a, b, &r)) return kSizeSaturated;
  return r;
}

// Physical memory of this machine in bytes (sysconf), or kSizeSaturated when unknown.
std::int64_t physical_memory_bytes();

}  // namespace cnnkit
