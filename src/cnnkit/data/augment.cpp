#include "cnnkit/data/augment.h"

#include <cmath>

namespace cnnkit {
namespace {

// Source indices for output positions 0..n-1 at offsets `off` [B] (padded coordinates):
// returns {index [B, n] clamped into 0..n-1, valid [B, n] (false where zero fill applies)}.
std::pair<torch::Tensor, torch::Tensor> source_index(std::int64_t n, std::int64_t padding, bool reflect,
                                                     const torch::Tensor& off) {
  auto pos = off.view({-1, 1}) - padding + torch::arange(n, off.options()).view({1, -1});
  if (reflect) {
    // Mirror about the edges without repeating them: -1 -> 1, n -> n - 2 (padding < n).
    pos = torch::where(pos < 0, -pos, pos);
    pos = torch::where(pos >= n, 2 * (n - 1) - pos, pos);
    return {pos, torch::Tensor()};
  }
  auto valid = (pos >= 0) & (pos < n);
  return {pos.clamp(0, n - 1), valid};
}

torch::Tensor uniform(std::int64_t b, at::Generator& gen) { return torch::rand({b}, gen, torch::kDouble); }

}  // namespace

torch::Tensor crop_at(const torch::Tensor& x, std::int64_t padding, bool reflect, const torch::Tensor& oy,
                      const torch::Tensor& ox) {
  const std::int64_t b = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  auto [rows, rows_ok] = source_index(h, padding, reflect, oy.to(x.device(), torch::kInt64));
  auto [cols, cols_ok] = source_index(w, padding, reflect, ox.to(x.device(), torch::kInt64));
  auto out = x.gather(2, rows.view({b, 1, h, 1}).expand({b, c, h, w}));
  out = out.gather(3, cols.view({b, 1, 1, w}).expand({b, c, h, w}));
  if (!reflect) {
    auto valid = rows_ok.view({b, 1, h, 1}) & cols_ok.view({b, 1, 1, w});
    out.masked_fill_(valid.logical_not(), 0);
  }
  return out;
}

torch::Tensor random_crop(const torch::Tensor& x, const RandomCropOptions& o, at::Generator& gen) {
  const std::int64_t b = x.size(0);
  auto oy = torch::randint(0, 2 * o.padding + 1, {b}, gen, torch::kInt64);
  auto ox = torch::randint(0, 2 * o.padding + 1, {b}, gen, torch::kInt64);
  return crop_at(x, o.padding, o.fill == "reflect", oy, ox);
}

torch::Tensor flip_where(const torch::Tensor& x, const torch::Tensor& mask) {
  return torch::where(mask.to(x.device(), torch::kBool).view({-1, 1, 1, 1}), x.flip({3}), x);
}

torch::Tensor random_horizontal_flip(const torch::Tensor& x, at::Generator& gen) {
  return flip_where(x, uniform(x.size(0), gen) < 0.5);
}

torch::Tensor erase_boxes(const torch::Tensor& x, const torch::Tensor& y0, const torch::Tensor& y1,
                          const torch::Tensor& x0, const torch::Tensor& x1, const torch::Tensor& apply,
                          double value, const torch::Tensor& noise) {
  const std::int64_t b = x.size(0), h = x.size(2), w = x.size(3);
  auto dev = x.device();
  auto ys = torch::arange(h, torch::TensorOptions(dev).dtype(torch::kInt64)).view({1, h});
  auto xs = torch::arange(w, torch::TensorOptions(dev).dtype(torch::kInt64)).view({1, w});
  auto in_rows = (ys >= y0.to(dev).view({b, 1})) & (ys < y1.to(dev).view({b, 1}));
  auto in_cols = (xs >= x0.to(dev).view({b, 1})) & (xs < x1.to(dev).view({b, 1}));
  auto mask = (in_rows.view({b, 1, h, 1}) & in_cols.view({b, 1, 1, w})) &
              apply.to(dev, torch::kBool).view({b, 1, 1, 1});
  if (noise.defined()) return torch::where(mask, noise.to(dev, x.scalar_type()), x);
  return x.masked_fill(mask, value);
}

torch::Tensor cutout(const torch::Tensor& x, const CutoutOptions& o, at::Generator& gen) {
  const std::int64_t b = x.size(0), h = x.size(2), w = x.size(3);
  auto cy = torch::randint(0, h, {b}, gen, torch::kInt64);
  auto cx = torch::randint(0, w, {b}, gen, torch::kInt64);
  auto apply = uniform(b, gen) < o.probability;
  const std::int64_t half = o.size / 2;
  return erase_boxes(x, (cy - half).clamp(0, h), (cy - half + o.size).clamp(0, h), (cx - half).clamp(0, w),
                     (cx - half + o.size).clamp(0, w), apply, 0.0);
}

torch::Tensor random_erasing(const torch::Tensor& x, const RandomErasingOptions& o, at::Generator& gen) {
  constexpr std::int64_t kTries = 10;
  const std::int64_t b = x.size(0), h = x.size(2), w = x.size(3);
  auto opts = torch::TensorOptions().dtype(torch::kDouble);
  const double area = double(h * w);
  auto target = area * (o.scale_min + (o.scale_max - o.scale_min) * torch::rand({b, kTries}, gen, opts));
  const double lr0 = std::log(o.ratio_min), lr1 = std::log(o.ratio_max);
  auto aspect = torch::exp(lr0 + (lr1 - lr0) * torch::rand({b, kTries}, gen, opts));
  auto eh = torch::sqrt(target * aspect).round().to(torch::kInt64);
  auto ew = torch::sqrt(target / aspect).round().to(torch::kInt64);
  auto fits = (eh < h) & (ew < w) & (eh > 0) & (ew > 0);
  // The first try that fits (tries weighted 10, 9, ..., so argmax is unique).
  auto first = (fits.to(torch::kInt64) * torch::arange(kTries, 0, -1, torch::kInt64)).argmax(1, true);
  auto bh = eh.gather(1, first).view({b}), bw = ew.gather(1, first).view({b});
  auto apply = (uniform(b, gen) < o.probability) & fits.any(1);
  auto top = (uniform(b, gen) * (h - bh + 1).to(torch::kDouble)).floor().to(torch::kInt64).clamp_min(0);
  auto left = (uniform(b, gen) * (w - bw + 1).to(torch::kDouble)).floor().to(torch::kInt64).clamp_min(0);
  torch::Tensor noise;
  if (o.random_value) noise = torch::randn(x.sizes(), gen, torch::kFloat);
  return erase_boxes(x, top, top + bh, left, left + bw, apply, o.value, noise);
}

}  // namespace cnnkit
