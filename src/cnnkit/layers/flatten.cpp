// flatten: H×W×C -> C*H*W features (channel-major, as LibTorch stores them). A flat input
// passes through unchanged.
#include <torch/torch.h>

#include "cnnkit/layers/layer_registry.h"
#include "cnnkit/layers/layer_util.h"

namespace cnnkit {
namespace {

class FlattenLayer : public LayerType {
 public:
  std::string type() const override { return "flatten"; }
  std::string doc() const override { return "H×W×C -> H*W*C features (flat)"; }
  std::vector<std::string> keys() const override { return {}; }
  json example() const override { return json::object(); }
  json resolve(const ConfigView&, ResolveContext&) const override { return json::object(); }
  BuiltLayer build(const ConfigView&, const Shape& in, const BuildContext&) const override {
    BuiltLayer b;
    b.module = torch::nn::AnyModule(torch::nn::Flatten());
    b.output = Shape::flat(in.numel());
    return b;
  }
};

CNNKIT_REGISTER_LAYER(FlattenLayer);

}  // namespace
}  // namespace cnnkit
