// batch_norm: normalizes each channel (spatial input, BatchNorm2d) or feature (flat input,
// BatchNorm1d) with batch statistics in training and running averages at evaluation:
// y = γ·(x − mean)/sqrt(var + epsilon) + β. momentum follows LibTorch:
// running = (1 - momentum) * running + momentum * batch. scale false freezes γ at 1, center
// false freezes β at 0 (Keras's names). Shape unchanged.
#include <torch/torch.h>

#include "cnnkit/layers/layer_registry.h"
#include "cnnkit/layers/layer_util.h"

namespace cnnkit {
namespace {

class BatchNormLayer : public LayerType {
 public:
  std::string type() const override { return "batch_norm"; }
  std::string doc() const override {
    return "batch normalization per channel (spatial) or feature (flat): y = γ·(x − mean)/sqrt(var + epsilon) + β, "
           "batch statistics in training, running averages (running = (1 − momentum)·running + momentum·batch, "
           "unbiased batch variance) at evaluation; scale false: γ fixed at 1, center false: β fixed at 0; "
           "shape unchanged";
  }
  std::vector<std::string> keys() const override { return batch_norm_keys(); }
  json example() const override { return {{"momentum", 0.1}, {"scale", false}}; }
  json resolve(const ConfigView& p, ResolveContext&) const override { return resolve_batch_norm_keys(p); }
  BuiltLayer build(const ConfigView& p, const Shape& in, const BuildContext& ctx) const override {
    reserve_parameters(p, ctx, sat_mul(4, in.is_spatial() ? in.channels() : in.features()));
    BuiltLayer b;
    b.module = make_batch_norm(p, in.is_spatial() ? in.channels() : in.features(), in.is_spatial());
    b.output = in;
    return b;
  }
};

CNNKIT_REGISTER_LAYER(BatchNormLayer);

}  // namespace
}  // namespace cnnkit
