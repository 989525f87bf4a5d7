// adam: Adam (Kingma & Ba) with L2 weight decay added to the gradient (PyTorch's Adam).
#include <torch/optim/adam.h>

#include "cnnkit/train/optimizer.h"
#include "cnnkit/train/optimizers/adam_options.h"

namespace cnnkit {
namespace {

class Adam : public OptimizerType {
 public:
  std::string doc() const override { return "Adam; lr default 0.001, betas [0.9, 0.999], eps 1e-8"; }
  std::vector<std::string> keys() const override { return {"betas", "eps"}; }
  json resolve(const ConfigView& v) const override { return resolve_adam_keys(v); }
  std::unique_ptr<torch::optim::Optimizer> make(const std::vector<torch::Tensor>& params,
                                                const json& r) const override {
    return std::make_unique<torch::optim::Adam>(params, torch::optim::AdamOptions(r.at("lr").get<double>())
                                                            .betas(adam_betas(r))
                                                            .eps(r.at("eps").get<double>())
                                                            .weight_decay(r.at("weight_decay").get<double>()));
  }
};
CNNKIT_REGISTER_OPTIMIZER("adam", Adam);

}  // namespace
}  // namespace cnnkit
