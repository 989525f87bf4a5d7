// conv2d: 2-D convolution, optionally followed by batch normalization and an activation, as
// one config layer (Keras Conv2D). Output: H_out = floor((H + pad_h - dilation*(k-1) - 1) / stride) + 1;
// with "same" padding H_out = ceil(H / stride).
#include <torch/torch.h>

#include "cnnkit/layers/layer_registry.h"
#include "cnnkit/layers/layer_stack.h"
#include "cnnkit/layers/layer_util.h"

namespace cnnkit {
namespace {

class Conv2dLayer : public LayerType {
 public:
  std::string type() const override { return "conv2d"; }
  std::string doc() const override {
    return "2-D convolution (+ optional batch_norm, activation); out = floor((in + pad - dilation*(k-1) - 1)/stride) + 1, "
           "\"same\": ceil(in/stride)";
  }
  std::vector<std::string> keys() const override {
    return {"filters", "kernel_size", "strides", "padding", "dilation", "groups",
            "bias",    "activation",  "alpha",   "batch_norm", "init"};
  }
  json example() const override {
    return {{"filters", 8}, {"kernel_size", 3}, {"padding", "same"}, {"activation", "relu"}};
  }
  json resolve(const ConfigView& p, ResolveContext&) const override {
    json out;
    out["filters"] = p.at("filters").as_int(1, 1 << 16);
    out["kernel_size"] = pair_json(parse_pair(p.at("kernel_size")));
    out["strides"] = pair_json(get_pair(p, "strides", {1, 1}));
    out["padding"] = padding_json(parse_padding(p, "valid"));
    out["dilation"] = pair_json(get_pair(p, "dilation", {1, 1}));
    out["groups"] = p.get_int("groups", 1, 1, 1 << 16);
    bool bn = p.get_bool("batch_norm", false);
    out["batch_norm"] = bn;
    out["bias"] = p.get_bool("bias", !bn);
    std::string act = p.get_choice("activation", "linear", activation_names());
    out["activation"] = act;
    if (act == "leaky_relu" || act == "elu") out["alpha"] = p.get_double("alpha", default_alpha(act));
    else if (p.has("alpha")) p.at("alpha").fail("only leaky_relu and elu take alpha; activation is " + act);
    out["init"] = p.get_choice("init", "inherit", [] {
      auto v = init_names();
      v.push_back("inherit");
      return v;
    }());
    return out;
  }
  BuiltLayer build(const ConfigView& p, const Shape& in, const BuildContext& ctx) const override {
    require_spatial(p, in);
    std::int64_t filters = p.at("filters").as_int(1);
    Pair k = parse_pair(p.at("kernel_size"));
    Pair s = parse_pair(p.at("strides"));
    Pair d = parse_pair(p.at("dilation"));
    std::int64_t groups = p.at("groups").as_int(1);
    PaddingSpec spec = parse_padding(p, "valid");
    Pair hw{in.height(), in.width()};
    Padding2d pad = compute_padding(spec, hw, k, s, d);
    std::int64_t span_h = d.first * (k.first - 1) + 1, span_w = d.second * (k.second - 1) + 1;
    if (hw.first + pad.top + pad.bottom < span_h || hw.second + pad.left + pad.right < span_w) {
      shape_fail(p, p.at("kernel_size"), "kernel " + std::to_string(k.first) + "×" + std::to_string(k.second) +
                        (d.first > 1 || d.second > 1 ? " (dilated to " + std::to_string(span_h) + "×" + std::to_string(span_w) + ")" : "") +
                        " is larger than the padded input " + std::to_string(hw.first + pad.top + pad.bottom) + "×" +
                        std::to_string(hw.second + pad.left + pad.right) + " (input " + in.str() + ")");
    }
    if (in.channels() % groups || filters % groups) {
      shape_fail(p, "groups=" + std::to_string(groups) + " must divide both input channels (" +
                        std::to_string(in.channels()) + ", input " + in.str() + ") and filters (" + std::to_string(filters) + ")");
    }
    Pair out_hw = output_size(hw, pad, k, s, d);
    const bool bias = p.at("bias").as_bool(), bn = p.at("batch_norm").as_bool();
    const std::int64_t weights = sat_mul(sat_mul(filters, in.channels() / groups), sat_mul(k.first, k.second));
    reserve_parameters(p, ctx, sat_add(weights, (bias ? filters : 0) + (bn ? 4 * filters : 0)));

    namespace nn = torch::nn;
    LayerStack seq;
    auto opts = nn::Conv2dOptions(in.channels(), filters, {k.first, k.second})
                    .stride({s.first, s.second})
                    .dilation({d.first, d.second})
                    .groups(groups)
                    .bias(bias);
    if (pad.symmetric()) {
      opts.padding(std::vector<std::int64_t>{pad.top, pad.left});
    } else {
      seq->push_back("pad", nn::ZeroPad2d(nn::ZeroPad2dOptions({pad.left, pad.right, pad.top, pad.bottom})));
    }
    nn::Conv2d conv(opts);
    init_weights(*conv, ctx.init);
    seq->push_back("conv", conv);
    if (bn) seq->push_back("bn", nn::BatchNorm2d(filters));
    std::string act = p.at("activation").as_string();
    if (act != "linear") seq->push_back("act", make_activation(act, p.get_double("alpha", default_alpha(act))));

    BuiltLayer b;
    b.module = nn::AnyModule(seq);
    b.output = Shape::spatial(filters, out_hw.first, out_hw.second);
    b.macs = sat_mul(sat_mul(out_hw.first, out_hw.second), weights);
    return b;
  }
};

CNNKIT_REGISTER_LAYER(Conv2dLayer);

}  // namespace
}  // namespace cnnkit
