// Standalone activations. "activation" takes {"function": NAME}; each function is also a layer
// type of its own ({"type": "relu"}). softmax and log_softmax act over channels (dim 1).
// leaky_relu takes alpha (negative slope, default 0.01), elu alpha (default 1.0). Shape unchanged.
#include <torch/torch.h>

#include "cnnkit/layers/layer_registry.h"
#include "cnnkit/layers/layer_util.h"

namespace cnnkit {
namespace {

class ActivationLayer : public LayerType {
 public:
  // function == "" means the generic "activation" type with a "function" key.
  explicit ActivationLayer(std::string function) : function_(std::move(function)) {}
  std::string type() const override { return function_.empty() ? "activation" : function_; }
  std::string doc() const override {
    return function_.empty() ? "an activation function chosen by \"function\"; shape unchanged"
                             : function_ + " activation; shape unchanged";
  }
  std::vector<std::string> keys() const override {
    if (function_.empty()) return {"function", "alpha"};
    if (function_ == "leaky_relu" || function_ == "elu") return {"alpha"};
    return {};
  }
  json example() const override {
    if (function_.empty()) return {{"function", "leaky_relu"}, {"alpha", 0.1}};
    return json::object();
  }
  json resolve(const ConfigView& p, ResolveContext&) const override {
    json out = json::object();
    std::string fn = function_;
    if (fn.empty()) {
      fn = p.at("function").as_choice(activation_names());
      out["function"] = fn;
    }
    if (fn == "leaky_relu" || fn == "elu") out["alpha"] = p.get_double("alpha", default_alpha(fn));
    else if (p.has("alpha")) p.at("alpha").fail("only leaky_relu and elu take alpha; function is " + fn);
    return out;
  }
  BuiltLayer build(const ConfigView& p, const Shape& in, const BuildContext&) const override {
    std::string fn = function_.empty() ? p.at("function").as_string() : function_;
    BuiltLayer b;
    b.module = make_activation(fn, p.get_double("alpha", default_alpha(fn)));
    b.output = in;
    return b;
  }

 private:
  std::string function_;
};

struct ActivationRegistrar {
  ActivationRegistrar() {
    LayerRegistry::instance().add(std::make_unique<ActivationLayer>(""));
    for (const auto& fn : activation_names())
      if (fn != "linear") LayerRegistry::instance().add(std::make_unique<ActivationLayer>(fn));
  }
};
static ActivationRegistrar registrar;

}  // namespace
}  // namespace cnnkit
