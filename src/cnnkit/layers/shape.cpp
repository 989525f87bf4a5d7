#include "cnnkit/layers/shape.h"

#include "cnnkit/core/size_math.h"

namespace cnnkit {

std::int64_t Shape::numel() const {
  std::int64_t n = 1;
  for (auto d : dims) n = sat_mul(n, d);
  return n;
}

std::string Shape::str() const {
  if (is_spatial()) {
    return std::to_string(height()) + "×" + std::to_string(width()) + "×" + std::to_string(channels());
  }
  std::string s;
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? "×" : "") + std::to_string(dims[i]);
  return s;
}

nlohmann::json Shape::to_json() const {
  if (is_spatial()) return {{"channels", channels()}, {"height", height()}, {"width", width()}};
  return {{"features", numel()}};
}

std::vector<std::int64_t> Shape::batched(std::int64_t n) const {
  std::vector<std::int64_t> out{n};
  out.insert(out.end(), dims.begin(), dims.end());
  return out;
}

}  // namespace cnnkit
