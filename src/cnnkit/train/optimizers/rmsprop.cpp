// rmsprop: RMSprop (PyTorch semantics); alpha is the smoothing constant of the squared-gradient average.
#include <torch/optim/rmsprop.h>

#include "cnnkit/train/optimizer.h"

namespace cnnkit {
namespace {

class RmsProp : public OptimizerType {
 public:
  std::string doc() const override { return "RMSprop; lr default 0.001, alpha 0.99, eps 1e-8, momentum 0"; }
  std::vector<std::string> keys() const override { return {"alpha", "eps", "momentum"}; }
  json resolve(const ConfigView& v) const override {
    json out = {{"alpha", 0.99}, {"eps", 1e-8}, {"momentum", 0.0}};
    if (auto x = v.find("alpha")) out["alpha"] = x->as_double_in(0.0, 1.0, false, false);
    if (auto x = v.find("eps")) out["eps"] = x->as_double_in(0.0, 1.0, false, true);
    if (auto x = v.find("momentum")) out["momentum"] = x->as_double_in(0.0, 1.0, true, false);
    return out;
  }
  std::unique_ptr<torch::optim::Optimizer> make(const std::vector<torch::Tensor>& params,
                                                const json& r) const override {
    return std::make_unique<torch::optim::RMSprop>(params, torch::optim::RMSpropOptions(r.at("lr").get<double>())
                                                               .alpha(r.at("alpha").get<double>())
                                                               .eps(r.at("eps").get<double>())
                                                               .momentum(r.at("momentum").get<double>())
                                                               .weight_decay(r.at("weight_decay").get<double>()));
  }
};
CNNKIT_REGISTER_OPTIMIZER("rmsprop", RmsProp);

}  // namespace
}  // namespace cnnkit
