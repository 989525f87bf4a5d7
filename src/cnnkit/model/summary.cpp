#include "cnnkit/model/summary.h"

#include <torch/torch.h>

#include <sstream>

#include "cnnkit/core/size_math.h"
#include "cnnkit/core/strings.h"

namespace cnnkit {
namespace {

nlohmann::json layer_row(const BuiltLayer& layer, const std::string& path, int depth) {
  ParamCount pc = count_parameters(*layer.module.ptr());
  return {{"index", path},
          {"depth", depth},
          {"name", layer.name},
          {"type", layer.type},
          {"output_shape", layer.output.to_json()},
          {"output_shape_str", layer.output.str()},
          {"params", pc.total()},
          {"trainable_params", pc.trainable},
          {"macs", layer.macs},
          {"activation_bytes", sat_mul(layer.output.numel(), 4)}};
}

void add_rows(const std::vector<BuiltLayer>& layers, const std::string& prefix, int depth, nlohmann::json& rows) {
  for (std::size_t i = 0; i < layers.size(); ++i) {
    std::string path = prefix.empty() ? std::to_string(i) : prefix + "." + std::to_string(i);
    rows.push_back(layer_row(layers[i], path, depth));
    add_rows(layers[i].children, path, depth + 1, rows);
  }
}

// Display width of UTF-8 text (counts code points, which is right for "×" and box lines).
std::size_t width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}
std::string pad_right(const std::string& s, std::size_t w) { return s + std::string(w > width(s) ? w - width(s) : 0, ' '); }
std::string pad_left(const std::string& s, std::size_t w) { return std::string(w > width(s) ? w - width(s) : 0, ' ') + s; }
std::string line(std::size_t w, const char* ch) {
  std::string s;
  for (std::size_t i = 0; i < w; ++i) s += ch;
  return s;
}

}  // namespace

nlohmann::json summarize(const Model& model, const std::string& name) {
  nlohmann::json rows = nlohmann::json::array();
  add_rows(model.layers, "", 0, rows);
  ParamCount pc = count_parameters(*model.net);
  std::int64_t macs = 0, act = 0;
  for (const auto& l : model.layers) {
    macs = sat_add(macs, l.macs);
    act = sat_add(act, sat_mul(l.output.numel(), 4));
  }
  return {{"model", name},
          {"input_shape", model.input.to_json()},
          {"input_shape_str", model.input.str()},
          {"layers", rows},
          {"total_params", pc.total()},
          {"trainable_params", pc.trainable},
          {"non_trainable_params", pc.non_trainable},
          {"param_bytes", sat_mul(pc.total(), 4)},
          {"macs_per_image", macs},
          {"flops_per_image", sat_mul(2, macs)},
          {"activation_bytes_per_image", act}};
}

std::string format_summary(const nlohmann::json& s) {
  std::vector<std::vector<std::string>> cells;
  cells.push_back({"#", "Layer (type)", "Output shape", "Param #", "Mult-adds", "Activations"});
  for (const auto& r : s["layers"]) {
    int depth = r["depth"].get<int>();
    std::string indent = depth ? std::string(2 * (depth - 1), ' ') + "└ " : "";
    cells.push_back({r["index"].get<std::string>(),
                     indent + r["name"].get<std::string>() + " (" + r["type"].get<std::string>() + ")",
                     r["output_shape_str"].get<std::string>(), with_commas(r["params"].get<std::int64_t>()),
                     human_count(static_cast<double>(r["macs"].get<std::int64_t>())),
                     human_bytes(static_cast<double>(r["activation_bytes"].get<std::int64_t>()))});
  }
  std::vector<std::size_t> w(cells[0].size(), 0);
  for (const auto& row : cells)
    for (std::size_t i = 0; i < row.size(); ++i) w[i] = std::max(w[i], width(row[i]));
  std::size_t total = 0;
  for (auto x : w) total += x + 2;
  std::ostringstream out;
  out << "Model: \"" << s["model"].get<std::string>() << "\"    input: " << s["input_shape_str"].get<std::string>()
      << " (H×W×C)\n";
  out << line(total, "━") << "\n";
  for (std::size_t r = 0; r < cells.size(); ++r) {
    const auto& row = cells[r];
    for (std::size_t i = 0; i < row.size(); ++i) {
      bool numeric = i >= 3 || (i == 0);
      out << (numeric && i != 0 ? pad_left(row[i], w[i]) : pad_right(row[i], w[i])) << (i + 1 < row.size() ? "  " : "");
    }
    out << "\n";
    if (r == 0) out << line(total, "─") << "\n";
  }
  out << line(total, "━") << "\n";
  auto i64 = [&](const char* k) { return s[k].get<std::int64_t>(); };
  out << "Total params: " << with_commas(i64("total_params")) << " (" << human_bytes(static_cast<double>(i64("param_bytes")))
      << ")\n";
  out << "Trainable params: " << with_commas(i64("trainable_params")) << "\n";
  out << "Non-trainable params: " << with_commas(i64("non_trainable_params")) << "\n";
  out << "Mult-adds per image: " << human_count(static_cast<double>(i64("macs_per_image"))) << " ("
      << human_count(static_cast<double>(i64("flops_per_image"))) << " FLOPs forward, about 3× that to train)\n";
  out << "Activations per image: " << human_bytes(static_cast<double>(i64("activation_bytes_per_image")))
      << " (float32 layer outputs, forward)\n";
  return out.str();
}

}  // namespace cnnkit
