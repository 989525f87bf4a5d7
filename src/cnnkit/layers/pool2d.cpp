#include "cnnkit/layers/pool2d.h"

#include <torch/torch.h>

#include <limits>

#include "cnnkit/layers/layer_util.h"
#include "cnnkit/layers/layer_stack.h"

namespace cnnkit {
namespace {

// Average pooling with asymmetric zero padding that, like Keras, averages real cells only.
struct MaskedAvgPool2dImpl : torch::nn::Module {
  MaskedAvgPool2dImpl(std::vector<std::int64_t> pads, std::vector<std::int64_t> kernel, std::vector<std::int64_t> stride)
      : pads_(std::move(pads)), kernel_(std::move(kernel)), stride_(std::move(stride)) {}
  torch::Tensor forward(const torch::Tensor& x) {
    namespace F = torch::nn::functional;
    auto opts = F::AvgPool2dFuncOptions(kernel_).stride(stride_);
    auto sum = F::avg_pool2d(F::pad(x, F::PadFuncOptions(pads_)), opts);
    auto ones = torch::ones({1, 1, x.size(2), x.size(3)}, x.options());
    auto count = F::avg_pool2d(F::pad(ones, F::PadFuncOptions(pads_)), opts);
    return sum / count;
  }
  std::vector<std::int64_t> pads_, kernel_, stride_;
};
TORCH_MODULE(MaskedAvgPool2d);

}  // namespace

json resolve_pool2d(const ConfigView& p) {
  json out;
  Pair k = get_pair(p, "pool_size", {2, 2});
  out["pool_size"] = pair_json(k);
  out["strides"] = pair_json(get_pair(p, "strides", k));
  PaddingSpec pad = parse_padding(p, "valid");
  if (pad.mode == "explicit") p.at("padding").fail("pooling padding must be \"same\" or \"valid\"");
  out["padding"] = pad.mode;
  return out;
}

BuiltLayer build_pool2d(PoolKind kind, const ConfigView& p, const Shape& in) {
  require_spatial(p, in);
  Pair k = parse_pair(p.at("pool_size"));
  Pair s = parse_pair(p.at("strides"));
  PaddingSpec spec = parse_padding(p, "valid");
  Pair hw{in.height(), in.width()};
  Padding2d pad = compute_padding(spec, hw, k, s);
  if (hw.first + pad.top + pad.bottom < k.first || hw.second + pad.left + pad.right < k.second) {
    shape_fail(p, p.at("pool_size"), "pool_size " + std::to_string(k.first) + "×" + std::to_string(k.second) +
                      " is larger than the input " + in.str() + (spec.mode == "valid" ? " (try padding \"same\")" : ""));
  }
  Pair out_hw = output_size(hw, pad, k, s);

  namespace nn = torch::nn;
  LayerStack seq;
  bool native = pad.symmetric() && pad.top * 2 <= k.first && pad.left * 2 <= k.second;
  std::vector<std::int64_t> native_pad{native ? pad.top : 0, native ? pad.left : 0};
  if (!native && kind == PoolKind::kMax) {
    // Asymmetric "same" padding: pad explicitly with a value that cannot affect the result.
    double value = kind == PoolKind::kMax ? -std::numeric_limits<double>::infinity() : 0.0;
    seq->push_back("pad", nn::ConstantPad2d(nn::ConstantPad2dOptions({pad.left, pad.right, pad.top, pad.bottom}, value)));
  }
  if (kind == PoolKind::kMax) {
    seq->push_back("pool", nn::MaxPool2d(nn::MaxPool2dOptions({k.first, k.second}).stride({s.first, s.second}).padding(native_pad)));
  } else if (native) {
    seq->push_back("pool", nn::AvgPool2d(nn::AvgPool2dOptions({k.first, k.second})
                                             .stride({s.first, s.second})
                                             .padding(native_pad)
                                             .count_include_pad(false)));
  } else {
    seq->push_back("pool", MaskedAvgPool2d(std::vector<std::int64_t>{pad.left, pad.right, pad.top, pad.bottom},
                                           std::vector<std::int64_t>{k.first, k.second},
                                           std::vector<std::int64_t>{s.first, s.second}));
  }
  BuiltLayer b;
  b.module = nn::AnyModule(seq);
  b.output = Shape::spatial(in.channels(), out_hw.first, out_hw.second);
  b.macs = 0;
  return b;
}

}  // namespace cnnkit
