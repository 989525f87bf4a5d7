// scale: multiplies its input by a fixed factor, y = factor · x (not trained). Shape unchanged.
// The fast CIFAR trainers end with it: airbench scales its logits by 1/9, which sets the
// softmax temperature the loss sees at initialisation without a trained parameter.
#include <torch/torch.h>

#include <ostream>

#include "cnnkit/layers/layer_registry.h"
#include "cnnkit/layers/layer_util.h"

namespace cnnkit {
namespace {

class ScaleImpl : public torch::nn::Cloneable<ScaleImpl> {
 public:
  explicit ScaleImpl(double factor) : factor_(factor) {}
  void reset() override {}
  torch::Tensor forward(const torch::Tensor& x) { return x * factor_; }
  void pretty_print(std::ostream& os) const override { os << "cnnkit::Scale(factor=" << factor_ << ")"; }

 private:
  double factor_;
};
TORCH_MODULE(Scale);

class ScaleLayer : public LayerType {
 public:
  std::string type() const override { return "scale"; }
  std::string doc() const override {
    return "y = factor · x, element-wise, with a fixed (not trained) factor; shape unchanged";
  }
  std::vector<std::string> keys() const override { return {"factor"}; }
  json example() const override { return {{"factor", 0.125}}; }
  json resolve(const ConfigView& p, ResolveContext&) const override {
    const double f = p.at("factor").as_double_in(-1e6, 1e6);
    if (f == 0.0) p.at("factor").fail("must not be 0 (the output would be constant)");
    return {{"factor", f}};
  }
  BuiltLayer build(const ConfigView& p, const Shape& in, const BuildContext&) const override {
    BuiltLayer b;
    b.module = torch::nn::AnyModule(Scale(p.at("factor").as_double()));
    b.output = in;
    return b;
  }
};

CNNKIT_REGISTER_LAYER(ScaleLayer);

}  // namespace
}  // namespace cnnkit
