// batch_norm: normalizes each channel (spatial input, BatchNorm2d) or feature (flat input,
// BatchNorm1d) with batch statistics in training and running averages at evaluation.
// momentum follows LibTorch: running = (1 - momentum) * running + momentum * batch.
#include <torch/torch.h>

#include "cnnkit/layers/layer_registry.h"
#include "cnnkit/layers/layer_util.h"

namespace cnnkit {
namespace {

class BatchNormLayer : public LayerType {
 public:
  std::string type() const override { return "batch_norm"; }
  std::string doc() const override { return "batch normalization per channel (spatial) or feature (flat); shape unchanged"; }
  std::vector<std::string> keys() const override { return {"momentum", "epsilon"}; }
  json example() const override { return {{"momentum", 0.1}}; }
  json resolve(const ConfigView& p, ResolveContext&) const override {
    json out;
    out["momentum"] = p.has("momentum") ? p.at("momentum").as_double_in(0.0, 1.0, false, true) : 0.1;
    out["epsilon"] = p.has("epsilon") ? p.at("epsilon").as_double_in(0.0, 1.0, false, false) : 1e-5;
    return out;
  }
  BuiltLayer build(const ConfigView& p, const Shape& in, const BuildContext& ctx) const override {
    namespace nn = torch::nn;
    reserve_parameters(p, ctx, sat_mul(4, in.is_spatial() ? in.channels() : in.features()));
    double momentum = p.at("momentum").as_double(), eps = p.at("epsilon").as_double();
    BuiltLayer b;
    if (in.is_spatial()) {
      b.module = nn::AnyModule(nn::BatchNorm2d(nn::BatchNorm2dOptions(in.channels()).momentum(momentum).eps(eps)));
    } else {
      b.module = nn::AnyModule(nn::BatchNorm1d(nn::BatchNorm1dOptions(in.features()).momentum(momentum).eps(eps)));
    }
    b.output = in;
    return b;
  }
};

CNNKIT_REGISTER_LAYER(BatchNormLayer);

}  // namespace
}  // namespace cnnkit
