// ResidualBlock: y = activation(body(x) + shortcut(x)). The shortcut is the identity when the
// body keeps the shape, else a 1×1 convolution (stride to match, optional batch norm).
// Its children are addressable: "body" holds the nested config layers in order.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include "cnnkit/layers/layer_stack.h"

namespace cnnkit {

class ResidualBlockImpl : public torch::nn::Module {
 public:
  ResidualBlockImpl(LayerStack body, LayerStack shortcut, torch::nn::AnyModule activation);
  torch::Tensor forward(torch::Tensor x);
  LayerStack& body() { return body_; }
  bool identity_shortcut() const { return shortcut_->size() == 0; }

 private:
  LayerStack body_;
  LayerStack shortcut_;
  torch::nn::AnyModule activation_;
};
TORCH_MODULE(ResidualBlock);

}  // namespace cnnkit
