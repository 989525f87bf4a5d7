#include "cnnkit/train/optimizer.h"

#include <torch/optim.h>

namespace cnnkit {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<torch::Tensor>& params,
                                                        const OptimizerConfig& c) {
  namespace optim = torch::optim;
  if (c.type == "sgd") {
    return std::make_unique<optim::SGD>(
        params, optim::SGDOptions(c.lr).momentum(c.momentum).nesterov(c.nesterov).weight_decay(c.weight_decay));
  }
  if (c.type == "adamw") {
    return std::make_unique<optim::AdamW>(
        params, optim::AdamWOptions(c.lr).betas({c.beta1, c.beta2}).eps(c.eps).weight_decay(c.weight_decay));
  }
  if (c.type == "rmsprop") {
    return std::make_unique<optim::RMSprop>(
        params, optim::RMSpropOptions(c.lr).alpha(c.alpha).eps(c.eps).momentum(c.momentum).weight_decay(c.weight_decay));
  }
  return std::make_unique<optim::Adam>(
      params, optim::AdamOptions(c.lr).betas({c.beta1, c.beta2}).eps(c.eps).weight_decay(c.weight_decay));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace cnnkit
