#include "cnnkit/dist/bucket_plan.h"

#include <algorithm>
#include <map>
#include <string>
#include <tuple>

#include "cnnkit/core/error.h"

namespace cnnkit::dist {

std::vector<Bucket> plan_buckets(const std::vector<torch::Tensor>& params, const BucketOptions& options) {
  if (options.first_bucket_bytes <= 0 || options.bucket_bytes <= 0) {
    throw UsageError("gradient buckets: sizes must be positive; got first " +
                     std::to_string(options.first_bucket_bytes) + " bytes, then " +
                     std::to_string(options.bucket_bytes) + " bytes");
  }
  struct Open {
    Bucket bucket;
    int64_t bytes = 0;
    int64_t limit = 0;
  };
  using Key = std::tuple<int, int, int>;  // dtype, device type, device index
  std::map<Key, Open> open;
  std::vector<std::pair<size_t, Bucket>> closed;  // (filling position of first param, bucket)
  std::map<size_t, size_t> position;              // param index -> filling position
  size_t pos = 0;
  for (size_t k = params.size(); k-- > 0;) {
    const auto& p = params[k];
    position[k] = pos++;
    Key key{static_cast<int>(p.scalar_type()), static_cast<int>(p.device().type()), p.device().index()};
    auto [it, fresh] = open.try_emplace(key);
    Open& o = it->second;
    if (fresh) o.limit = options.first_bucket_bytes;
    if (o.bucket.params.empty()) {
      o.bucket.dtype = p.scalar_type();
      o.bucket.device = p.device();
    }
    o.bucket.params.push_back(k);
    o.bucket.numel += p.numel();
    o.bytes += p.numel() * static_cast<int64_t>(p.element_size());
    if (o.bytes >= o.limit) {
      closed.emplace_back(position[o.bucket.params.front()], std::move(o.bucket));
      o.bucket = Bucket{};
      o.bytes = 0;
      o.limit = options.bucket_bytes;
    }
  }
  for (auto& [key, o] : open) {
    if (!o.bucket.params.empty()) closed.emplace_back(position[o.bucket.params.front()], std::move(o.bucket));
  }
  std::stable_sort(closed.begin(), closed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Bucket> buckets;
  for (auto& c : closed) buckets.push_back(std::move(c.second));
  return buckets;
}

}  // namespace cnnkit::dist
