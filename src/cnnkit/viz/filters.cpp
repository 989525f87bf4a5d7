#include "cnnkit/viz/filters.h"

#include <torch/torch.h>

#include "cnnkit/core/error.h"

namespace cnnkit {

torch::Tensor conv_kernel(const BuiltLayer& layer) {
  if (layer.type != "conv2d" || layer.module.is_empty()) return {};
  for (const auto& p : layer.module.ptr()->named_parameters(true))
    if (p.key() == "conv.weight" && p.value().dim() == 4) return p.value();
  return {};
}

FilterImages filter_images(const torch::Tensor& weight, bool rgb, MapNormalize mode, const std::string& colormap,
                           int scale, int groups) {
  torch::NoGradGuard no_grad;
  auto w = weight.detach().to(torch::kFloat32);
  const std::int64_t o = w.size(0), in = w.size(1), kh = w.size(2), kw = w.size(3);
  const std::int64_t per_group = std::max<std::int64_t>(1, o / std::max(1, groups));
  FilterImages out;
  out.rgb = rgb;
  auto group_label = [&](std::int64_t f) {
    std::string g = groups > 1 ? std::string(1, static_cast<char>('A' + f / per_group)) + " " : "";
    return g + "f" + std::to_string(f % per_group);
  };
  if (rgb) {
    if (in != 3) throw Error("filter_images: an RGB rendering needs 3 input channels; the kernel has " + std::to_string(in));
    // Per filter: treat [O, 3, kh, kw] as O "channels" of one image each -> reshape to [1, O, 3*kh, kw].
    auto as_maps = w.reshape({1, o, 3 * kh, kw});
    auto u8 = maps_to_uint8(as_maps, mode).reshape({o, 3, kh, kw});
    out.images = upscale_nearest(u8, scale);
    for (std::int64_t f = 0; f < o; ++f) out.labels.push_back(group_label(f));
    out.columns = 0;
    return out;
  }
  // Per output filter: [1, O, I*kh, kw]; then each (o, i) kernel is one tile.
  auto u8 = maps_to_uint8(w.reshape({1, o, in * kh, kw}), mode).reshape({o * in, kh, kw});
  out.images = upscale_nearest(colorize(u8, colormap), scale);
  if (o * in <= 256) {
    for (std::int64_t f = 0; f < o; ++f)
      for (std::int64_t i = 0; i < in; ++i) out.labels.push_back(group_label(f) + "/" + std::to_string(i));
  }
  out.columns = in == 1 ? 0 : static_cast<int>(in);
  return out;
}

}  // namespace cnnkit
