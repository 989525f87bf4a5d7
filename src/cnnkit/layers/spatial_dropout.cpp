// spatial_dropout: drops whole channels (feature maps) with probability `rate` during training
// (Keras SpatialDropout2D, LibTorch Dropout2d). Needs a spatial input; shape unchanged.
#include <torch/torch.h>

#include "cnnkit/layers/layer_registry.h"
#include "cnnkit/layers/layer_util.h"

namespace cnnkit {
namespace {

class SpatialDropoutLayer : public LayerType {
 public:
  std::string type() const override { return "spatial_dropout"; }
  std::string doc() const override { return "drops whole channels with probability rate in [0, 1); shape unchanged"; }
  std::vector<std::string> keys() const override { return {"rate"}; }
  json example() const override { return {{"rate", 0.1}}; }
  json resolve(const ConfigView& p, ResolveContext&) const override {
    return {{"rate", p.at("rate").as_double_in(0.0, 1.0, true, false)}};
  }
  BuiltLayer build(const ConfigView& p, const Shape& in, const BuildContext&) const override {
    require_spatial(p, in);
    BuiltLayer b;
    b.module = torch::nn::AnyModule(torch::nn::Dropout2d(torch::nn::Dropout2dOptions(p.at("rate").as_double())));
    b.output = in;
    return b;
  }
};

CNNKIT_REGISTER_LAYER(SpatialDropoutLayer);

}  // namespace
}  // namespace cnnkit
