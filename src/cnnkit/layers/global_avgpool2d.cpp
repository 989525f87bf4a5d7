// global_avgpool2d: the mean of each channel over height and width (Keras
// GlobalAveragePooling2D). Output: flat, one feature per input channel.
#include <torch/torch.h>

#include "cnnkit/layers/layer_registry.h"
#include "cnnkit/layers/layer_stack.h"
#include "cnnkit/layers/layer_util.h"

namespace cnnkit {
namespace {

class GlobalAvgPool2dLayer : public LayerType {
 public:
  std::string type() const override { return "global_avgpool2d"; }
  std::string doc() const override { return "mean of each channel over H×W; H×W×C -> C (flat)"; }
  std::vector<std::string> keys() const override { return {}; }
  json example() const override { return json::object(); }
  json resolve(const ConfigView&, ResolveContext&) const override { return json::object(); }
  BuiltLayer build(const ConfigView& p, const Shape& in, const BuildContext&) const override {
    require_spatial(p, in);
    namespace nn = torch::nn;
    LayerStack seq;
    seq->push_back("pool", nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1})));
    seq->push_back("flatten", nn::Flatten());
    BuiltLayer b;
    b.module = nn::AnyModule(seq);
    b.output = Shape::flat(in.channels());
    return b;
  }
};

CNNKIT_REGISTER_LAYER(GlobalAvgPool2dLayer);

}  // namespace
}  // namespace cnnkit
