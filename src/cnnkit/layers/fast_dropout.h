// Element-wise dropout with a fast CPU mask. LibTorch 1.13's CPU dropout draws one Mersenne
// Twister number per element through bernoulli_, serially: ~6 ns per element here, as long as
// the 3x3 convolution before it (docs/performance.md). This mask hashes (seed, element index)
// with a 32-bit integer mixer, vectorised and in parallel, instead. The seed comes from the
// default CPU generator, so torch::manual_seed and resumed runs (which restore that generator)
// stay reproducible.
// Other devices and dtypes use torch::dropout.
#pragma once

#include <torch/torch.h>

namespace cnnkit {

// A tensor shaped and strided like `x` (float, CPU, dense) holding 0 with probability `p`
// and 1/(1-p) otherwise. `seed` fixes the pattern.
torch::Tensor dropout_mask(const torch::Tensor& x, double p, std::uint64_t seed);

class FastDropoutImpl : public torch::nn::Cloneable<FastDropoutImpl> {
 public:
  explicit FastDropoutImpl(double p) : p_(p) {}
  void reset() override {}
  torch::Tensor forward(const torch::Tensor& x);
  void pretty_print(std::ostream& os) const override;
  double p() const { return p_; }

 private:
  double p_;
};
TORCH_MODULE(FastDropout);

}  // namespace cnnkit
