// Optimizers from the training config, and setting the learning rate of every param group.
#pragma once
#include <memory>
#include <vector>

#include <torch/optim/optimizer.h>

#include "cnnkit/train/training_config.h"

namespace cnnkit {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<torch::Tensor>& params,
                                                        const OptimizerConfig& config);
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace cnnkit
