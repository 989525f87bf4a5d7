#include "cnnkit/layers/fast_dropout.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <mutex>

namespace cnnkit {

namespace {

inline std::uint64_t splitmix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Chris Wellons' lowbias32: a bijective 32-bit mixer with near-ideal avalanche.
inline std::uint32_t lowbias32(std::uint32_t x) {
  x ^= x >> 16;
  x *= 0x7FEB352Du;
  x ^= x >> 15;
  x *= 0x846CA68Bu;
  x ^= x >> 16;
  return x;
}

std::uint64_t draw_seed() {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get<at::CPUGeneratorImpl>()->random64();
}

bool fast_path(const torch::Tensor& x) {
  return x.device().is_cpu() && x.scalar_type() == torch::kFloat && x.is_non_overlapping_and_dense();
}

}  // namespace

torch::Tensor dropout_mask(const torch::Tensor& x, double p, std::uint64_t seed) {
  TORCH_CHECK(fast_path(x), "dropout_mask: needs a dense float CPU tensor");
  TORCH_CHECK(p >= 0.0 && p < 1.0, "dropout_mask: p must be in [0, 1)");
  torch::Tensor mask = torch::empty_like(x);  // same strides: element i of the storage pairs with x's
  TORCH_CHECK(mask.strides() == x.strides(), "dropout_mask: unexpected strides");
  float* m = mask.data_ptr<float>();
  const float keep_value = static_cast<float>(1.0 / (1.0 - p));
  // Keep when the 32-bit hash is >= p * 2^32: P(drop) = p to within 2^-32.
  const auto threshold = static_cast<std::uint32_t>(std::min(4294967295.0, std::round(p * 4294967296.0)));
  const std::uint64_t mixed = splitmix64(seed);
  const auto offset = static_cast<std::uint32_t>(mixed), flip = static_cast<std::uint32_t>(mixed >> 32);
  at::parallel_for(0, mask.numel(), 1 << 14, [&](std::int64_t begin, std::int64_t end) {
    // 32-bit arithmetic only, so the loop vectorises on any x86-64.
    for (std::int64_t i = begin; i < end; ++i) {
      std::uint32_t h = lowbias32(static_cast<std::uint32_t>(i) * 0x9E3779B9u + offset) ^ flip;
      m[i] = h >= threshold ? keep_value : 0.0f;
    }
  });
  return mask;
}

torch::Tensor FastDropoutImpl::forward(const torch::Tensor& x) {
  if (!is_training() || p_ == 0.0) return x;
  if (!fast_path(x)) return torch::dropout(x, p_, /*train=*/true);
  torch::Tensor mask;
  {
    torch::NoGradGuard no_grad;
    mask = dropout_mask(x, p_, draw_seed());
  }
  return x * mask;
}

void FastDropoutImpl::pretty_print(std::ostream& os) const { os << "cnnkit::FastDropout(p=" << p_ << ")"; }

}  // namespace cnnkit
