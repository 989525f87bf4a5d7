#include "cnnkit/data/normalization.h"

#include <ATen/Parallel.h>

#include <array>
#include <cmath>
#include <mutex>

#include "cnnkit/core/error.h"
#include "cnnkit/data/data_config.h"

namespace cnnkit {

Normalization compute_normalization(const torch::Tensor& images_u8) {
  TORCH_CHECK(images_u8.dim() == 4 && images_u8.scalar_type() == torch::kUInt8, "expected uint8 [N, C, H, W]");
  auto x = images_u8.to(torch::kCPU).contiguous();
  const std::int64_t n = x.size(0), c = x.size(1), plane = x.size(2) * x.size(3);
  std::vector<std::array<std::int64_t, 256>> hist(static_cast<std::size_t>(c));
  for (auto& h : hist) h.fill(0);
  std::mutex merge;
  const std::uint8_t* data = x.data_ptr<std::uint8_t>();
  at::parallel_for(0, n, 256, [&](std::int64_t begin, std::int64_t end) {
    std::vector<std::array<std::int64_t, 256>> local(static_cast<std::size_t>(c));
    for (auto& h : local) h.fill(0);
    for (std::int64_t i = begin; i < end; ++i) {
      for (std::int64_t ch = 0; ch < c; ++ch) {
        const std::uint8_t* p = data + (i * c + ch) * plane;
        auto& h = local[ch];
        for (std::int64_t k = 0; k < plane; ++k) ++h[p[k]];
      }
    }
    std::lock_guard<std::mutex> lock(merge);
    for (std::int64_t ch = 0; ch < c; ++ch)
      for (int v = 0; v < 256; ++v) hist[ch][v] += local[ch][v];
  });
  Normalization out;
  for (std::int64_t ch = 0; ch < c; ++ch) {
    double count = 0, sum = 0, sq = 0;
    for (int v = 0; v < 256; ++v) {
      const double f = v / 255.0, k = double(hist[ch][v]);
      count += k;
      sum += k * f;
      sq += k * f * f;
    }
    const double mean = count > 0 ? sum / count : 0.0;
    const double var = count > 0 ? std::max(0.0, sq / count - mean * mean) : 0.0;
    out.mean.push_back(mean);
    out.std.push_back(std::sqrt(var));
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

Normalization resolve_normalization(const Config& config, const ImageSet& train) {
  if (auto n = normalization_from_config(config)) return *n;
  if (train.size() == 0) {
    throw DataError("data.normalize is \"auto\" but there is no training data to compute it from");
  }
  Normalization n = compute_normalization(train.images);
  for (auto& s : n.std) {
    if (s < 1e-6) s = 1.0;  // a constant channel: leave its scale alone rather than divide by 0
  }
  return n;
}

nlohmann::json normalization_to_json(const Normalization& n) { return {{"mean", n.mean}, {"std", n.std}}; }

Normalization normalization_from_json(const nlohmann::json& j) {
  try {
    Normalization n{j.at("mean").get<std::vector<double>>(), j.at("std").get<std::vector<double>>()};
    if (n.mean.empty() || n.mean.size() != n.std.size()) throw DataError("mean and std differ in length");
    for (double s : n.std)
      if (!(s > 0)) throw DataError("std values must be positive");
    return n;
  } catch (const nlohmann::json::exception& e) {
    throw DataError(std::string("malformed normalization: ") + e.what());
  } catch (const DataError& e) {
    throw DataError(std::string("malformed normalization: ") + e.what());
  }
}

}  // namespace cnnkit
