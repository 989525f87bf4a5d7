// The shape of one example flowing between layers (no batch dimension):
// spatial {channels, height, width} or flat {features}.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cnnkit {

struct Shape {
  std::vector<std::int64_t> dims;

  static Shape spatial(std::int64_t c, std::int64_t h, std::int64_t w) { return Shape{{c, h, w}}; }
  static Shape flat(std::int64_t n) { return Shape{{n}}; }

  bool is_spatial() const { return dims.size() == 3; }
  bool is_flat() const { return dims.size() == 1; }
  std::int64_t channels() const { return dims.at(0); }
  std::int64_t height() const { return dims.at(1); }
  std::int64_t width() const { return dims.at(2); }
  std::int64_t features() const { return dims.at(0); }
  std::int64_t numel() const;  // saturates at kSizeSaturated instead of overflowing
  // Keras order for people: "28×28×32" (height×width×channels), "2048" for flat.
  std::string str() const;
  // {"channels":32,"height":28,"width":28} or {"features":2048}
  nlohmann::json to_json() const;
  // With a batch dimension, as LibTorch sees it: {N, C, H, W} or {N, F}.
  std::vector<std::int64_t> batched(std::int64_t n) const;

  bool operator==(const Shape& o) const { return dims == o.dims; }
  bool operator!=(const Shape& o) const { return dims != o.dims; }
};

}  // namespace cnnkit
