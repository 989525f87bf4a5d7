#include "cnnkit/data/split.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <tuple>

#include "cnnkit/core/error.h"

namespace cnnkit {

torch::Tensor stratified_order(const torch::Tensor& labels, std::int64_t seed) {
  auto l = labels.to(torch::kInt64).contiguous();
  const std::int64_t n = l.numel();
  const std::int64_t* p = l.data_ptr<std::int64_t>();
  std::int64_t classes = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    if (p[i] < 0 || p[i] >= kMaxClasses) {
      throw DataError("label " + std::to_string(p[i]) + " of image " + std::to_string(i) + " is out of range 0.." +
                      std::to_string(kMaxClasses - 1));
    }
    classes = std::max(classes, p[i] + 1);
  }
  std::vector<std::vector<std::int64_t>> members(static_cast<std::size_t>(classes));
  for (std::int64_t i = 0; i < n; ++i) members[p[i]].push_back(i);
  // std::mt19937_64 is specified exactly by the standard; the Fisher-Yates below is our own,
  // so the order is the same with every standard library.
  std::mt19937_64 rng(static_cast<std::uint64_t>(seed));
  // Each image gets the key (rank within its class + 0.5) / class size: sorting by key
  // interleaves the classes in proportion.
  std::vector<std::tuple<double, std::int64_t, std::int64_t>> keys;
  keys.reserve(static_cast<std::size_t>(n));
  for (std::int64_t c = 0; c < classes; ++c) {
    auto& m = members[c];
    for (std::size_t i = m.size(); i > 1; --i) std::swap(m[i - 1], m[rng() % i]);
    for (std::size_t r = 0; r < m.size(); ++r) keys.emplace_back((r + 0.5) / double(m.size()), c, m[r]);
  }
  std::sort(keys.begin(), keys.end());
  std::vector<std::int64_t> order;
  order.reserve(keys.size());
  for (const auto& k : keys) order.push_back(std::get<2>(k));
  return torch::tensor(order, torch::kInt64);
}

ImageSet subset(const ImageSet& set, const torch::Tensor& indices) {
  return ImageSet{set.images.index_select(0, indices), set.labels.index_select(0, indices)};
}

ImageSet stratified_limit(const ImageSet& set, std::int64_t n, std::int64_t seed) {
  if (n <= 0 || n >= set.size()) return set;
  auto chosen = std::get<0>(stratified_order(set.labels, seed).narrow(0, 0, n).sort());
  return subset(set, chosen);
}

std::pair<ImageSet, ImageSet> split_validation(const ImageSet& set, double fraction, std::int64_t seed) {
  if (!(fraction > 0.0)) return {set, ImageSet{}};  // also NaN
  const auto k = std::min<std::int64_t>(set.size(), std::llround(std::min(fraction, 1.0) * double(set.size())));
  if (k <= 0) return {set, ImageSet{}};
  auto order = stratified_order(set.labels, seed);
  auto val = std::get<0>(order.narrow(0, 0, k).sort());
  auto train = std::get<0>(order.narrow(0, k, set.size() - k).sort());
  return {subset(set, train), subset(set, val)};
}

std::vector<std::int64_t> class_counts(const ImageSet& set, std::int64_t num_classes) {
  std::vector<std::int64_t> counts(static_cast<std::size_t>(num_classes), 0);
  if (set.size() == 0) return counts;
  auto c = torch::bincount(set.labels, {}, num_classes).to(torch::kInt64).contiguous();
  std::copy(c.data_ptr<std::int64_t>(), c.data_ptr<std::int64_t>() + num_classes, counts.begin());
  return counts;
}

}  // namespace cnnkit
