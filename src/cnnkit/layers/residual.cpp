// residual: a block whose body is a nested list of layers, with an identity shortcut (same
// shape) or a 1×1 projection (channels or size differ). Output = body's output shape.
#include <torch/torch.h>

#include "cnnkit/layers/layer_registry.h"
#include "cnnkit/layers/layer_util.h"
#include "cnnkit/layers/residual_block.h"

namespace cnnkit {

ResidualBlockImpl::ResidualBlockImpl(LayerStack body, LayerStack shortcut,
                                     torch::nn::AnyModule activation)
    : body_(register_module("body", body)), shortcut_(register_module("shortcut", shortcut)),
      activation_(std::move(activation)) {
  if (!activation_.is_empty()) register_module("activation", activation_.ptr());
}

torch::Tensor ResidualBlockImpl::forward(torch::Tensor x) {
  torch::Tensor y = body_->forward(x);
  y = identity_shortcut() ? y + x : y + shortcut_->forward(x);
  return activation_.is_empty() ? y : activation_.forward(y);
}

namespace {

class ResidualLayer : public LayerType {
 public:
  std::string type() const override { return "residual"; }
  std::string doc() const override {
    return "activation(body(x) + shortcut(x)); identity shortcut, or 1×1 conv projection when shapes differ";
  }
  std::vector<std::string> keys() const override {
    return {"layers", "activation", "alpha", "shortcut", "shortcut_batch_norm", "init"};
  }
  json example() const override {
    return {{"layers", json::array({{{"type", "conv2d"}, {"filters", 6}, {"kernel_size", 3}, {"strides", 2},
                                     {"padding", "same"}, {"batch_norm", true}, {"activation", "relu"}},
                                    {{"type", "conv2d"}, {"filters", 6}, {"kernel_size", 3}, {"padding", "same"},
                                     {"batch_norm", true}}})},
            {"activation", "relu"}};
  }
  json resolve(const ConfigView& p, ResolveContext& ctx) const override {
    json out;
    out["layers"] = resolve_layer_list(p.at("layers"), ctx);
    std::string act = p.get_choice("activation", "relu", activation_names());
    out["activation"] = act;
    if (act == "leaky_relu" || act == "elu") out["alpha"] = p.get_double("alpha", default_alpha(act));
    else if (p.has("alpha")) p.at("alpha").fail("only leaky_relu and elu take alpha; activation is " + act);
    out["shortcut"] = p.get_choice("shortcut", "auto", {"auto", "projection"});
    out["shortcut_batch_norm"] = p.get_bool("shortcut_batch_norm", true);
    auto inits = init_names();
    inits.push_back("inherit");
    out["init"] = p.get_choice("init", "inherit", inits);
    return out;
  }
  BuiltLayer build(const ConfigView& p, const Shape& in, const BuildContext& ctx) const override {
    require_spatial(p, in);
    namespace nn = torch::nn;
    BuiltLayer b;
    b.children = build_layer_list(p.at("layers"), in, ctx);
    Shape out = b.children.back().output;
    if (!out.is_spatial()) {
      shape_fail(p, "its body must end with a spatial output to add to the shortcut; got " + describe_shape(out));
    }
    LayerStack body;
    for (auto& child : b.children) {
      body->push_back(child.name, child.module);
      b.macs = sat_add(b.macs, child.macs);
    }
    LayerStack shortcut;
    bool project = p.at("shortcut").as_string() == "projection" || out != in;
    if (project) {
      std::int64_t sh = (in.height() + out.height() - 1) / out.height();
      std::int64_t sw = (in.width() + out.width() - 1) / out.width();
      if ((in.height() - 1) / sh + 1 != out.height() || (in.width() - 1) / sw + 1 != out.width()) {
        shape_fail(p, "no 1×1 strided projection maps the input " + in.str() + " onto the body's output " + out.str());
      }
      const bool bn = p.at("shortcut_batch_norm").as_bool();
      const std::int64_t weights = sat_mul(in.channels(), out.channels());
      reserve_parameters(p, ctx, sat_add(weights, bn ? 4 * out.channels() : 0));
      nn::Conv2d conv(nn::Conv2dOptions(in.channels(), out.channels(), 1).stride({sh, sw}).bias(false));
      init_weights(*conv, ctx.init);
      shortcut->push_back("conv", conv);
      if (bn) shortcut->push_back("bn", nn::BatchNorm2d(out.channels()));
      b.macs = sat_add(b.macs, sat_mul(sat_mul(out.height(), out.width()), weights));
    }
    std::string act = p.at("activation").as_string();
    nn::AnyModule activation;
    if (act != "linear") activation = make_activation(act, p.get_double("alpha", default_alpha(act)));
    b.module = nn::AnyModule(ResidualBlock(body, shortcut, activation));
    b.output = out;
    return b;
  }
};

CNNKIT_REGISTER_LAYER(ResidualLayer);

}  // namespace
}  // namespace cnnkit
