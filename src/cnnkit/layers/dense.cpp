// dense: fully connected layer (Keras Dense), optionally followed by batch normalization and an
// activation, as one config layer. Needs a flat input; output: `units` features.
#include <torch/torch.h>

#include "cnnkit/layers/layer_registry.h"
#include "cnnkit/layers/layer_stack.h"
#include "cnnkit/layers/layer_util.h"

namespace cnnkit {
namespace {

class DenseLayer : public LayerType {
 public:
  std::string type() const override { return "dense"; }
  std::string doc() const override {
    return "fully connected y = x·Wᵀ + b, then optional batch_norm and activation; F -> units (flat)";
  }
  std::vector<std::string> keys() const override {
    return {"units", "activation", "alpha", "bias", "batch_norm", "init", "trainable"};
  }
  json example() const override { return {{"units", 10}, {"activation", "relu"}}; }
  Shape example_input() const override { return Shape::flat(20); }
  json resolve(const ConfigView& p, ResolveContext&) const override {
    json out;
    out["units"] = p.at("units").as_int(1, 1 << 24);
    json bn = resolve_batch_norm_option(p);
    out["batch_norm"] = bn;
    out["bias"] = p.get_bool("bias", !bn.is_object());
    std::string act = p.get_choice("activation", "linear", activation_names());
    out["activation"] = act;
    if (act == "leaky_relu" || act == "elu") out["alpha"] = p.get_double("alpha", default_alpha(act));
    else if (p.has("alpha")) p.at("alpha").fail("only leaky_relu and elu take alpha; activation is " + act);
    auto inits = init_names();
    inits.push_back("inherit");
    out["init"] = p.get_choice("init", "inherit", inits);
    out["trainable"] = resolve_trainable(p);
    return out;
  }
  BuiltLayer build(const ConfigView& p, const Shape& in, const BuildContext& ctx) const override {
    require_flat(p, in);
    std::int64_t units = p.at("units").as_int(1);
    const bool bias = p.at("bias").as_bool(), bn = batch_norm_enabled(p);
    const std::int64_t weights = sat_mul(in.features(), units);
    reserve_parameters(p, ctx, sat_add(weights, (bias ? units : 0) + (bn ? 4 * units : 0)));
    namespace nn = torch::nn;
    LayerStack seq;
    nn::Linear linear(nn::LinearOptions(in.features(), units).bias(bias));
    init_weights(*linear, ctx.init);
    apply_trainable(p.at("trainable").json_value(), linear->weight, linear->bias);
    seq->push_back("linear", linear);
    if (bn) seq->push_back("bn", make_batch_norm(p.at("batch_norm"), units, /*spatial=*/false));
    std::string act = p.at("activation").as_string();
    if (act != "linear") seq->push_back("act", make_activation(act, p.get_double("alpha", default_alpha(act))));
    BuiltLayer b;
    b.module = nn::AnyModule(seq);
    b.output = Shape::flat(units);
    b.macs = weights;
    return b;
  }
};

CNNKIT_REGISTER_LAYER(DenseLayer);

}  // namespace
}  // namespace cnnkit
