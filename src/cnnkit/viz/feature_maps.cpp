#include "cnnkit/viz/feature_maps.h"

#include <algorithm>
#include <set>

#include <torch/torch.h>

#include "cnnkit/core/error.h"
#include "cnnkit/core/strings.h"
#include "cnnkit/io/image_io.h"

namespace cnnkit {

std::vector<LayerRef> select_layers(const Model& model, const std::vector<std::string>& specs) {
  std::vector<LayerRef> out;
  std::set<std::string> seen;
  auto add = [&](const LayerRef& ref) {
    if (seen.insert(ref.path).second) out.push_back(ref);
  };
  for (const auto& spec : specs) {
    for (const auto& part : split(spec, ',')) {
      std::string item = trim(part);
      if (item.empty()) throw UsageError("--layer '" + spec + "': empty layer in the list");
      if (item == "all") {
        for (const auto& ref : model.all_layers()) add(ref);
      } else {
        add(model.find_layer(item));
      }
    }
  }
  return out;
}

namespace {

bool wants_inside(const std::set<std::string>& wanted, const std::string& path) {
  const std::string prefix = path + ".";
  auto it = wanted.lower_bound(prefix);
  return it != wanted.end() && it->compare(0, prefix.size(), prefix) == 0;
}

// Runs `layers` in order from `x`; returns the last output. Stops early (returning an undefined
// tensor) once `remaining` is empty.
torch::Tensor run_layers(std::vector<BuiltLayer>& layers, const std::string& prefix, torch::Tensor x,
                         std::set<std::string>& remaining, const std::set<std::string>& wanted,
                         std::map<std::string, torch::Tensor>& out) {
  for (std::size_t i = 0; i < layers.size() && !remaining.empty(); ++i) {
    const std::string path = prefix.empty() ? std::to_string(i) : prefix + "." + std::to_string(i);
    if (!layers[i].children.empty() && wants_inside(wanted, path)) {
      run_layers(layers[i].children, path, x, remaining, wanted, out);
      if (remaining.empty()) break;
    }
    x = layers[i].module.forward(x);
    if (wanted.count(path)) {
      out[path] = x;
      remaining.erase(path);
    }
  }
  return x;
}

}  // namespace

std::map<std::string, torch::Tensor> capture_layer_outputs(Model& model, const torch::Tensor& x,
                                                           const std::vector<std::string>& addresses) {
  torch::NoGradGuard no_grad;
  std::set<std::string> wanted(addresses.begin(), addresses.end());
  std::set<std::string> remaining = wanted;
  std::map<std::string, torch::Tensor> out;
  run_layers(model.layers, "", x, remaining, wanted, out);
  return out;
}

MapNormalize parse_map_normalize(const std::string& s) {
  if (s == "channel") return MapNormalize::kChannel;
  if (s == "layer") return MapNormalize::kLayer;
  throw UsageError("--normalize " + s + ": expected channel or layer");
}

MapStats map_stats(const torch::Tensor& t) {
  auto flat = t.detach().reshape({t.size(0), -1}).to(torch::kFloat32);
  auto all = torch::stack({std::get<0>(flat.min(1)), std::get<0>(flat.max(1)), flat.mean(1),
                           flat.eq(0).to(torch::kFloat32).mean(1)})
                 .to(torch::kCPU, torch::kFloat64)
                 .contiguous();
  const auto n = static_cast<std::size_t>(t.size(0));
  const double* p = all.data_ptr<double>();
  MapStats s;
  s.min.assign(p, p + n);
  s.max.assign(p + n, p + 2 * n);
  s.mean.assign(p + 2 * n, p + 3 * n);
  s.zero_fraction.assign(p + 3 * n, p + 4 * n);
  return s;
}

torch::Tensor flat_to_strip(const torch::Tensor& flat, std::int64_t columns) {
  const std::int64_t k = flat.size(0), f = flat.size(1);
  const std::int64_t cols = std::min<std::int64_t>(f, std::max<std::int64_t>(1, columns)), rows = (f + cols - 1) / cols;
  auto strip = torch::empty({k, rows * cols}, flat.options());
  strip.fill_(flat.min().item<double>());
  strip.narrow(1, 0, f).copy_(flat);
  return strip.view({k, 1, rows, cols});
}

torch::Tensor maps_to_uint8(const torch::Tensor& maps, MapNormalize mode) {
  auto m = maps.to(torch::kFloat32);
  torch::Tensor lo, hi;
  if (mode == MapNormalize::kChannel) {
    lo = m.amin({0, 2, 3}, true);
    hi = m.amax({0, 2, 3}, true);
  } else {
    lo = m.min();
    hi = m.max();
  }
  auto range = hi - lo;
  auto scaled = (m - lo) / range.clamp_min(1e-12) * 255.0;
  scaled = torch::where(range > 0, scaled, torch::zeros_like(scaled));
  return scaled.round().clamp(0, 255).to(torch::kUInt8);
}

torch::Tensor colorize(const torch::Tensor& u8, const std::string& colormap) {
  if (colormap == "gray") {
    colormap_lut(colormap);  // validates the name the same way as the others
    return u8.unsqueeze(-3);
  }
  auto lut = colormap_lut(colormap).to(u8.device());
  auto rgb = lut.index({u8.to(torch::kLong)});  // [..., H, W, 3]
  const auto d = rgb.dim();
  std::vector<std::int64_t> order;
  for (std::int64_t i = 0; i < d - 3; ++i) order.push_back(i);
  order.insert(order.end(), {d - 1, d - 3, d - 2});
  return rgb.permute(order).contiguous();
}

torch::Tensor upscale_nearest(const torch::Tensor& images, int scale) {
  if (scale <= 1) return images;
  return images.repeat_interleave(scale, -2).repeat_interleave(scale, -1);
}

int auto_scale(std::int64_t h, std::int64_t w, int min_side) {
  const std::int64_t side = std::max<std::int64_t>(1, std::max(h, w));
  return static_cast<int>(std::max<std::int64_t>(1, (min_side + side - 1) / side));
}

namespace {

// "3×3" for a kernel or pool size given as 3 or [3, 3]; "3×5" for [3, 5].
std::string size_text(const nlohmann::json& v) {
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>()) + "×" + std::to_string(v.get<std::int64_t>());
  if (v.is_array() && v.size() == 2) return std::to_string(v[0].get<std::int64_t>()) + "×" + std::to_string(v[1].get<std::int64_t>());
  return "";
}

bool not_one(const nlohmann::json& v) {
  return (v.is_number_integer() && v.get<std::int64_t>() != 1) ||
         (v.is_array() && std::any_of(v.begin(), v.end(), [](const nlohmann::json& x) { return x != 1; }));
}

}  // namespace

std::string describe_layer(const BuiltLayer& layer) {
  const auto& p = layer.params;
  std::string s = layer.type;
  if (p.is_object()) {
    for (const char* key : {"kernel_size", "pool_size"})
      if (p.contains(key)) s += " " + size_text(p[key]);
    if (layer.type == "conv2d" && p.contains("strides") && not_one(p["strides"])) {
      const auto& st = p["strides"];
      s += ", stride " + (st.is_array() && st[0] != st[1] ? size_text(st) : std::to_string(st.is_array() ? st[0].get<std::int64_t>() : st.get<std::int64_t>()));
    }
    // conv2d's order: conv, maxpool, batch norm, activation. batch_norm is false or the
    // resolved options object.
    if (p.contains("maxpool")) s += " + maxpool " + size_text(p["maxpool"]);
    if (const auto bn = p.find("batch_norm"); bn != p.end() && (bn->is_object() || (bn->is_boolean() && bn->get<bool>())))
      s += " + batch norm";
    if (p.contains("activation") && p["activation"].is_string() && p["activation"] != "linear")
      s += " + " + p["activation"].get<std::string>();
    if (layer.type == "dropout" || layer.type == "spatial_dropout")
      if (p.contains("rate")) s += " (rate " + p["rate"].dump() + ")";
  }
  if (!layer.children.empty()) s += " (" + std::to_string(layer.children.size()) + " layers)";
  return s;
}

}  // namespace cnnkit
