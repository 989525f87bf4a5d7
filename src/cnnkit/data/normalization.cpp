#include "cnnkit/data/normalization.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <mutex>

#include "cnnkit/core/error.h"
#include "cnnkit/data/data_config.h"

namespace cnnkit {

namespace {
// Sum and sum of squares of n bytes. uint32 partial sums over blocks of 16,384 bytes cannot
// overflow (255^2 * 16384 < 2^32), so the compiler vectorises the inner loop.
void accumulate(const std::uint8_t* p, std::int64_t n, std::uint64_t& sum, std::uint64_t& sq) {
  for (std::int64_t start = 0; start < n; start += 16384) {
    const std::int64_t end = std::min<std::int64_t>(n, start + 16384);
    std::uint32_t s = 0, q = 0;
    for (std::int64_t k = start; k < end; ++k) {
      const std::uint32_t v = p[k];
      s += v;
      q += v * v;
    }
    sum += s;
    sq += q;
  }
}
}  // namespace

Normalization compute_normalization(const torch::Tensor& images_u8) {
  TORCH_CHECK(images_u8.dim() == 4 && images_u8.scalar_type() == torch::kUInt8, "expected uint8 [N, C, H, W]");
  auto x = images_u8.to(torch::kCPU).contiguous();
  const std::int64_t n = x.size(0), c = x.size(1), plane = x.size(2) * x.size(3);
  std::vector<std::uint64_t> sum(static_cast<std::size_t>(c), 0), sq(static_cast<std::size_t>(c), 0);
  std::mutex merge;
  const std::uint8_t* data = x.data_ptr<std::uint8_t>();
  // Exact integer sums (no rounding), in parallel over images.
  at::parallel_for(0, n, 512, [&](std::int64_t begin, std::int64_t end) {
    std::vector<std::uint64_t> s(static_cast<std::size_t>(c), 0), q(static_cast<std::size_t>(c), 0);
    for (std::int64_t i = begin; i < end; ++i)
      for (std::int64_t ch = 0; ch < c; ++ch) accumulate(data + (i * c + ch) * plane, plane, s[ch], q[ch]);
    std::lock_guard<std::mutex> lock(merge);
    for (std::int64_t ch = 0; ch < c; ++ch) {
      sum[ch] += s[ch];
      sq[ch] += q[ch];
    }
  });
  Normalization out;
  const double count = double(n) * double(plane);
  for (std::int64_t ch = 0; ch < c; ++ch) {
    const double mean = count > 0 ? double(sum[ch]) / count / 255.0 : 0.0;
    const double ex2 = count > 0 ? double(sq[ch]) / count / (255.0 * 255.0) : 0.0;
    out.mean.push_back(mean);
    out.std.push_back(std::sqrt(std::max(0.0, ex2 - mean * mean)));
  }
  return out;
}

std::optional<Normalization> normalization_from_config(const Config& config) {
  DataConfig d = data_config_from(config);
  if (d.normalize_mode == "auto") return std::nullopt;
  if (d.normalize_mode == "fixed") return Normalization{d.mean, d.std};
  const auto channels = config.resolved().at("input").at("channels").get<std::size_t>();
  return Normalization{std::vector<double>(channels, 0.0), std::vector<double>(channels, 1.0)};
}

Normalization auto_normalization(Normalization n) {
  for (auto& s : n.std) {
    if (s < 1e-6) s = 1.0;  // a constant channel: leave its scale alone rather than divide by 0
  }
  return n;
}

nlohmann::json normalization_to_json(const Normalization& n) { return {{"mean", n.mean}, {"std", n.std}}; }

Normalization normalization_from_json(const nlohmann::json& j) {
  Normalization n;
  try {
    n = Normalization{j.at("mean").get<std::vector<double>>(), j.at("std").get<std::vector<double>>()};
  } catch (const nlohmann::json::exception& e) {
    throw DataError("malformed normalization: expected {\"mean\": [numbers], \"std\": [numbers]}");
  }
  check_normalization(n, "malformed normalization");
  return n;
}

void check_normalization(const Normalization& n, const std::string& what) {
  if (n.mean.empty() || n.mean.size() != n.std.size()) {
    throw DataError(what + ": mean (" + std::to_string(n.mean.size()) + " values) and std (" +
                    std::to_string(n.std.size()) + " values) must be non-empty and of equal length");
  }
  for (double m : n.mean)
    if (!std::isfinite(m)) throw DataError(what + ": mean values must be finite");
  for (double s : n.std)
    if (!(s > 0) || !std::isfinite(s)) throw DataError(what + ": std values must be positive and finite");
}

NormalizationMap normalization_map(const Normalization& n, c10::Device device) {
  check_normalization(n, "normalization");
  const auto c = static_cast<std::int64_t>(n.mean.size());
  auto mean = torch::tensor(n.mean, torch::kDouble), std = torch::tensor(n.std, torch::kDouble);
  return {(1.0 / (255.0 * std)).to(torch::kFloat).view({1, c, 1, 1}).to(device),
          (mean / std).to(torch::kFloat).view({1, c, 1, 1}).to(device)};
}

torch::Tensor normalize_images(const torch::Tensor& images_u8, const NormalizationMap& map) {
  return images_u8.to(map.scale.device()).to(torch::kFloat).mul_(map.scale).sub_(map.shift);
}

torch::Tensor denormalize_images(const torch::Tensor& x, const NormalizationMap& map) {
  return ((x + map.shift) / map.scale).round().clamp(0, 255).to(torch::kUInt8);
}

}  // namespace cnnkit
