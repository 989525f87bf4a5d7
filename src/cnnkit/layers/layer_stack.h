// LayerStack: a torch::nn::Sequential with a plain Tensor -> Tensor forward, so it can be
// stored in an AnyModule (a child of another Sequential). Every config layer that is made of
// several modules (conv -> bn -> activation) is one LayerStack.
#pragma once
#include <torch/nn/modules/container/sequential.h>

namespace cnnkit {

class LayerStackImpl : public torch::nn::SequentialImpl {
 public:
  using SequentialImpl::SequentialImpl;
  torch::Tensor forward(torch::Tensor x) { return SequentialImpl::forward(std::move(x)); }
};
TORCH_MODULE(LayerStack);

}  // namespace cnnkit
