// Shared by maxpool2d and avgpool2d: pool_size, strides (default pool_size), padding same/valid.
// "same" pooling gives ceil(in/stride) (7×7 by 2 -> 4×4) with the extra row/column padded at the
// bottom/right as in Keras; padded cells never win a max and are not counted in an average.
#pragma once
#include "cnnkit/layers/layer_registry.h"

namespace cnnkit {

enum class PoolKind { kMax, kAvg };
json resolve_pool2d(const ConfigView& p);
BuiltLayer build_pool2d(PoolKind kind, const ConfigView& p, const Shape& in);

}  // namespace cnnkit

namespace cnnkit {

// The layer type behind maxpool2d and avgpool2d; each has its own file that registers it.
class Pool2dLayer : public LayerType {
 public:
  Pool2dLayer(PoolKind kind, std::string type, std::string what)
      : kind_(kind), type_(std::move(type)), what_(std::move(what)) {}
  std::string type() const override { return type_; }
  std::string doc() const override {
    return what_ + " pooling; \"valid\": floor((in - pool)/stride) + 1, \"same\": ceil(in/stride)";
  }
  std::vector<std::string> keys() const override { return {"pool_size", "strides", "padding"}; }
  json example() const override { return {{"pool_size", 2}, {"padding", "same"}}; }
  Shape example_input() const override { return Shape::spatial(3, 7, 7); }
  json resolve(const ConfigView& p, ResolveContext&) const override { return resolve_pool2d(p); }
  BuiltLayer build(const ConfigView& p, const Shape& in, const BuildContext&) const override {
    return build_pool2d(kind_, p, in);
  }

 private:
  PoolKind kind_;
  std::string type_, what_;
};

}  // namespace cnnkit
