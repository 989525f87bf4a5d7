#include "cnnkit/data/inspect.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cstdio>
#include <sstream>

#include "cnnkit/core/error.h"
#include "cnnkit/core/strings.h"
#include "cnnkit/core/terminal.h"
#include "cnnkit/data/normalization.h"
#include "cnnkit/data/pipeline.h"
#include "cnnkit/data/split.h"
#include "cnnkit/io/image_io.h"
#include "cnnkit/layers/shape.h"

namespace cnnkit {
namespace {

std::string fixed(double v, int digits = 4) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string list(const nlohmann::json& values) {
  std::vector<std::string> parts;
  for (const auto& v : values) parts.push_back(fixed(v.get<double>()));
  return "[" + join(parts, ", ") + "]";
}

std::string describe_augment(const nlohmann::json& a) {
  std::vector<std::string> parts;
  if (a["random_crop"].is_object())
    parts.push_back("random crop (padding " + std::to_string(a["random_crop"]["padding"].get<int>()) + ", " +
                    a["random_crop"]["fill"].get<std::string>() + ")");
  if (a["horizontal_flip"].get<bool>()) parts.push_back("horizontal flip");
  if (a["cutout"].is_object())
    parts.push_back("cutout (" + std::to_string(a["cutout"]["size"].get<int>()) + " px, p " +
                    fixed(a["cutout"]["probability"].get<double>(), 2) + ")");
  if (a["random_erasing"].is_object())
    parts.push_back("random erasing (p " + fixed(a["random_erasing"]["probability"].get<double>(), 2) + ")");
  return parts.empty() ? "none" : join(parts, ", ");
}

}  // namespace

std::string format_description(const nlohmann::json& d) {
  std::ostringstream out;
  auto row = [&](const std::string& key, const std::string& value) {
    out << key << std::string(key.size() < 14 ? 14 - key.size() : 1, ' ') << value << "\n";
  };
  row("source", d["source"].get<std::string>());
  row("root", d["root"].get<std::string>() + "  (from " + d["root_from"].get<std::string>() + ")");
  std::vector<std::string> files;
  for (const auto& f : d["files"]) files.push_back(f.get<std::string>());
  row("files", files.empty() ? "-" : join(files, "\n" + std::string(14, ' ')));
  const auto& shape = d["image_shape"];
  row("image shape", Shape::spatial(shape["channels"].get<std::int64_t>(), shape["height"].get<std::int64_t>(),
                                    shape["width"].get<std::int64_t>())
                         .str() +
                         " (H×W×C)");
  for (const auto& note : d["conversions"]) row("converted", note.get<std::string>());
  const auto& names = d["class_names"];
  row("classes", std::to_string(names.size()));
  const auto& splits = d["splits"];
  row("images", "train " + with_commas(splits["train"]["images"].get<std::int64_t>()) + ", validation " +
                    with_commas(splits["validation"]["images"].get<std::int64_t>()) + ", test " +
                    with_commas(splits["test"]["images"].get<std::int64_t>()));
  if (d["validation_split"]["fraction"].get<double>() > 0)
    row("validation", fixed(d["validation_split"]["fraction"].get<double>(), 3) + " of train, stratified, seed " +
                          std::to_string(d["validation_split"]["seed"].get<std::int64_t>()));
  if (d["limits"]["train"].get<std::int64_t>() > 0 || d["limits"]["test"].get<std::int64_t>() > 0)
    row("limits", "train " + std::to_string(d["limits"]["train"].get<std::int64_t>()) + ", test " +
                      std::to_string(d["limits"]["test"].get<std::int64_t>()) + " (0 = all; stratified)");
  // Per-class table: class, train, validation, test.
  // Rows are "index name"; the column is as wide as the longest of them ("1 automobile").
  std::size_t width = 5;
  auto row_name = [&](std::size_t i) {
    const std::string name = names[i].get<std::string>();
    return name == std::to_string(i) ? name : std::to_string(i) + " " + name;
  };
  for (std::size_t i = 0; i < names.size(); ++i) width = std::max(width, row_name(i).size());
  if (names.size() <= 30) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "  %-*s %10s %10s %10s\n", static_cast<int>(width), "class", "train", "validation",
                  "test");
    out << "\n" << buf;
    for (std::size_t i = 0; i < names.size(); ++i) {
      std::snprintf(buf, sizeof buf, "  %-*s %10s %10s %10s\n", static_cast<int>(width),
                    row_name(i).c_str(),
                    with_commas(splits["train"]["per_class"][i].get<std::int64_t>()).c_str(),
                    with_commas(splits["validation"]["per_class"][i].get<std::int64_t>()).c_str(),
                    with_commas(splits["test"]["per_class"][i].get<std::int64_t>()).c_str());
      out << buf;
    }
    out << "\n";
  } else {
    std::vector<std::string> shown;
    for (std::size_t i = 0; i < names.size() && i < 8; ++i) shown.push_back(names[i].get<std::string>());
    row("class names", join(shown, ", ") + ", ...");
  }
  if (d["pixel_stats"].is_object()) {
    row("pixel mean", list(d["pixel_stats"]["mean"]) + "  (training split, on [0, 1])");
    row("pixel std", list(d["pixel_stats"]["std"]));
  }
  const auto& norm = d["normalization"];
  row("normalize", norm["mode"].get<std::string>() + ": mean " + list(norm["mean"]) + ", std " + list(norm["std"]));
  row("augment", describe_augment(d["augment"]));
  if (d.contains("skipped_images") && d["skipped_images"].get<std::int64_t>() > 0)
    row("skipped", plural(d["skipped_images"].get<std::int64_t>(), "unreadable image"));
  if (d.contains("resized_images") && d["resized_images"].get<std::int64_t>() > 0)
    row("resized", plural(d["resized_images"].get<std::int64_t>(), "image"));
  row("loaded in", fixed(d["load_seconds"].get<double>(), 2) + " s");
  return out.str();
}

torch::Tensor preview_grid(const Config& config, const Datasets& data, std::int64_t n, bool augmented,
                           std::int64_t seed) {
  if (data.train.size() == 0) throw DataError("preview: the training split is empty");
  n = std::min(n, data.train.size());
  auto chosen = stratified_order(data.train.labels, seed).narrow(0, 0, n);
  auto images = data.train.images.index_select(0, chosen);
  auto labels = data.train.labels.index_select(0, chosen);
  if (augmented) {
    BatchPipeline pipeline(config, data.normalization, c10::Device(c10::kCPU));
    auto gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<std::uint64_t>(seed));
    auto x = pipeline.prepare(images, true, gen);
    images = denormalize_images(x, normalization_map(data.normalization, x.device()));
  }
  std::vector<std::string> names;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto label = labels[i].item<std::int64_t>();
    names.push_back(label < static_cast<std::int64_t>(data.class_names.size()) ? data.class_names[label]
                                                                                : std::to_string(label));
  }
  GridOptions o;
  o.title = config.name() + ": " + plural(n, "training image") + (augmented ? " (augmented)" : "");
  return make_grid(images, names, o);
}

}  // namespace cnnkit
