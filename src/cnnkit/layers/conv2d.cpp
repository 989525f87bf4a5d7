// conv2d: 2-D convolution, optionally followed by max pooling, batch normalization and an
// activation, as one config layer (Keras Conv2D; the pooling before batch norm as in airbench).
// Output: H_out = floor((H + pad_h - dilation*(k-1) - 1) / stride) + 1; with "same" padding
// H_out = ceil(H / stride); then floor(H_out / maxpool) when maxpool is set.
// init "patch_whitening" is data-dependent: the builder leaves LibTorch's initialisation and
// model/data_init.h replaces it from training images when a fresh run starts.
#include <torch/torch.h>

#include "cnnkit/layers/layer_registry.h"
#include "cnnkit/layers/layer_stack.h"
#include "cnnkit/layers/layer_util.h"

namespace cnnkit {
namespace {

constexpr double kDefaultWhiteningEps = 5e-4;  // airbench's eps added to the eigenvalues

class Conv2dLayer : public LayerType {
 public:
  std::string type() const override { return "conv2d"; }
  std::string doc() const override {
    return "2-D convolution y = W * x + b (cross-correlation, zero padding), then optional maxpool (window = stride "
           "= maxpool, floor), batch_norm and activation, in that order; "
           "out = floor((in + pad - dilation*(k-1) - 1)/stride) + 1, \"same\": ceil(in/stride), then "
           "floor(out/maxpool)";
  }
  std::vector<std::string> keys() const override {
    return {"filters", "kernel_size", "strides", "padding", "dilation", "groups",   "bias",
            "activation", "alpha", "batch_norm", "maxpool", "init", "whitening_eps", "trainable"};
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
    json bn = resolve_batch_norm_option(p);
    out["batch_norm"] = bn;
    out["bias"] = p.get_bool("bias", !bn.is_object());
    if (p.has("maxpool")) out["maxpool"] = pair_json(parse_pair(p.at("maxpool")));
    std::string act = p.get_choice("activation", "linear", activation_names());
    out["activation"] = act;
    if (act == "leaky_relu" || act == "elu") out["alpha"] = p.get_double("alpha", default_alpha(act));
    else if (p.has("alpha")) p.at("alpha").fail("only leaky_relu and elu take alpha; activation is " + act);
    const std::string init = p.get_choice("init", "inherit", [] {
      auto v = init_names();
      v.push_back("inherit");
      v.push_back("patch_whitening");
      return v;
    }());
    out["init"] = init;
    if (init == "patch_whitening") {
      out["whitening_eps"] = p.has("whitening_eps") ? p.at("whitening_eps").as_double_in(0.0, 1e6) : kDefaultWhiteningEps;
    } else if (p.has("whitening_eps")) {
      p.at("whitening_eps").fail("only init \"patch_whitening\" takes whitening_eps; init is " + init);
    }
    out["trainable"] = resolve_trainable(p);
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
    if (p.at("init").as_string() == "patch_whitening") check_whitening(p, in, k, d, groups, filters);
    Pair out_hw = output_size(hw, pad, k, s, d);
    const bool bias = p.at("bias").as_bool(), bn = batch_norm_enabled(p);
    const std::int64_t weights = sat_mul(sat_mul(filters, in.channels() / groups), sat_mul(k.first, k.second));
    reserve_parameters(p, ctx, sat_add(weights, (bias ? filters : 0) + (bn ? 4 * filters : 0)));
    Pair conv_hw = out_hw;
    if (auto mp = p.find("maxpool")) {
      const Pair m = parse_pair(*mp);
      if (out_hw.first < m.first || out_hw.second < m.second) {
        shape_fail(p, *mp, "maxpool " + std::to_string(m.first) + "×" + std::to_string(m.second) +
                               " is larger than the convolution's output " + std::to_string(out_hw.first) + "×" +
                               std::to_string(out_hw.second) + " (input " + in.str() + ")");
      }
      out_hw = {out_hw.first / m.first, out_hw.second / m.second};
    }

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
    apply_trainable(p.at("trainable").json_value(), conv->weight, conv->bias);
    seq->push_back("conv", conv);
    if (auto mp = p.find("maxpool")) {
      const Pair m = parse_pair(*mp);
      seq->push_back("pool", nn::MaxPool2d(nn::MaxPool2dOptions({m.first, m.second}).stride({m.first, m.second})));
    }
    if (bn) seq->push_back("bn", make_batch_norm(p.at("batch_norm"), filters, /*spatial=*/true));
    std::string act = p.at("activation").as_string();
    if (act != "linear") seq->push_back("act", make_activation(act, p.get_double("alpha", default_alpha(act))));

    BuiltLayer b;
    b.module = nn::AnyModule(seq);
    b.output = Shape::spatial(filters, out_hw.first, out_hw.second);
    b.macs = sat_mul(sat_mul(conv_hw.first, conv_hw.second), weights);
    return b;
  }

 private:
  // Patch whitening (model/data_init.h) needs a plain convolution whose filters are the top
  // components of the C·kh·kw-dimensional patch space, or all of them with both signs.
  static void check_whitening(const ConfigView& p, const Shape& in, Pair k, Pair d, std::int64_t groups,
                              std::int64_t filters) {
    if (groups != 1 || d.first != 1 || d.second != 1)
      shape_fail(p, p.at("init"), "init \"patch_whitening\" needs groups 1 and dilation 1");
    const std::int64_t dim = in.channels() * k.first * k.second;
    if (filters > dim && filters != 2 * dim) {
      shape_fail(p, p.at("filters"), "init \"patch_whitening\" makes one filter per principal component of the " +
                                         std::to_string(in.channels()) + "×" + std::to_string(k.first) + "×" +
                                         std::to_string(k.second) + " input patches: filters must be at most " +
                                         std::to_string(dim) + ", or " + std::to_string(2 * dim) +
                                         " (each component with both signs); got " + std::to_string(filters));
    }
  }
};

CNNKIT_REGISTER_LAYER(Conv2dLayer);

}  // namespace
}  // namespace cnnkit
