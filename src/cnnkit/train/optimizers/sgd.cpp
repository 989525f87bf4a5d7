// sgd: stochastic gradient descent with momentum (PyTorch semantics), optionally Nesterov.
#include <torch/optim/sgd.h>

#include "cnnkit/train/optimizer.h"

namespace cnnkit {
namespace {

class Sgd : public OptimizerType {
 public:
  std::string doc() const override { return "SGD with momentum (default 0.9) and optional Nesterov; lr default 0.01"; }
  std::vector<std::string> keys() const override { return {"momentum", "nesterov"}; }
  double default_lr() const override { return 0.01; }
  json resolve(const ConfigView& v) const override {
    json out;
    out["momentum"] = v.has("momentum") ? v.at("momentum").as_double_in(0.0, 1.0, true, false) : 0.9;
    out["nesterov"] = v.get_bool("nesterov", false);
    if (out["nesterov"].get<bool>() && out["momentum"].get<double>() <= 0)
      v.at("nesterov").fail("nesterov needs momentum > 0");
    return out;
  }
  std::unique_ptr<torch::optim::Optimizer> make(const std::vector<torch::Tensor>& params,
                                                const json& r) const override {
    return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(r.at("lr").get<double>())
                                                           .momentum(r.at("momentum").get<double>())
                                                           .nesterov(r.at("nesterov").get<bool>())
                                                           .weight_decay(r.at("weight_decay").get<double>()));
  }
};
CNNKIT_REGISTER_OPTIMIZER("sgd", Sgd);

}  // namespace
}  // namespace cnnkit
