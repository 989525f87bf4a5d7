// adamw: Adam with decoupled weight decay (Loshchilov & Hutter); weight_decay default 0.01.
#include <torch/optim/adamw.h>

#include "cnnkit/train/optimizer.h"
#include "cnnkit/train/optimizers/adam_options.h"

namespace cnnkit {
namespace {

class AdamW : public OptimizerType {
 public:
  std::string doc() const override { return "AdamW (decoupled weight decay, default 0.01); lr default 0.001"; }
  std::vector<std::string> keys() const override { return {"betas", "eps"}; }
  double default_weight_decay() const override { return 0.01; }
  json resolve(const ConfigView& v) const override { return resolve_adam_keys(v); }
  std::unique_ptr<torch::optim::Optimizer> make(const std::vector<torch::Tensor>& params,
                                                const json& r) const override {
    return std::make_unique<torch::optim::AdamW>(params, torch::optim::AdamWOptions(r.at("lr").get<double>())
                                                             .betas(adam_betas(r))
                                                             .eps(r.at("eps").get<double>())
                                                             .weight_decay(r.at("weight_decay").get<double>()));
  }
};
CNNKIT_REGISTER_OPTIMIZER("adamw", AdamW);

}  // namespace
}  // namespace cnnkit
