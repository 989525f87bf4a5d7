// load_datasets: the data section -> images in memory, split, limited, described.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "cnnkit/core/error.h"
#include "cnnkit/core/strings.h"
#include "cnnkit/data/data_config.h"
#include "cnnkit/data/dataset.h"
#include "cnnkit/data/normalization.h"
#include "cnnkit/data/source.h"
#include "cnnkit/data/split.h"
#include "cnnkit/data/stats_cache.h"
#include "cnnkit/layers/shape.h"

namespace cnnkit {
namespace fs = std::filesystem;
namespace {

// H×W×C, the notation of `cnnkit summary`.
std::string shape_str(std::int64_t c, std::int64_t h, std::int64_t w) { return Shape::spatial(c, h, w).str(); }

// Channel conversion (1 -> 3 replicates gray; 3 -> 1 uses the luma weights OpenCV uses, so
// binary and image-folder sources agree) and resizing (antialiased bilinear), in chunks.
torch::Tensor fit_to_input(const torch::Tensor& images, const InputShape& t, const std::string& what,
                           std::vector<std::string>& notes) {
  const std::int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
  if (c == t.channels && h == t.height && w == t.width) return images;
  if (c != t.channels && !((c == 1 && t.channels == 3) || (c == 3 && t.channels == 1))) {
    throw DataError(what + ": images have " + std::to_string(c) + " channels and the model input has " +
                    std::to_string(t.channels) + "; only gray <-> RGB conversion (1 <-> 3) is supported");
  }
  std::string note = what + ": images are " + shape_str(c, h, w) + ", the model input is " +
                     shape_str(t.channels, t.height, t.width) + ":";
  if (c == 1 && t.channels == 3) note += " gray replicated to RGB;";
  if (c == 3 && t.channels == 1) note += " RGB averaged to gray (luma weights 0.299, 0.587, 0.114);";
  if (h != t.height || w != t.width) note += " resized (antialiased bilinear);";
  note.pop_back();
  spdlog::info("{}", note);
  notes.push_back(note);
  auto out = torch::empty({n, t.channels, t.height, t.width}, torch::kUInt8);
  const auto weights = torch::tensor({0.299f, 0.587f, 0.114f}).view({1, 3, 1, 1});
  for (std::int64_t start = 0; start < n; start += 2048) {
    const std::int64_t len = std::min<std::int64_t>(2048, n - start);
    auto x = images.narrow(0, start, len);
    if (c == 1 && t.channels == 3) x = x.expand({len, 3, h, w});
    if (h != t.height || w != t.width) {
      x = at::_upsample_bilinear2d_aa(x.to(torch::kFloat), {t.height, t.width}, false);
    }
    if (c == 3 && t.channels == 1) x = (x.to(torch::kFloat) * weights).sum(1, true);
    if (x.scalar_type() != torch::kUInt8) x = x.round().clamp(0, 255).to(torch::kUInt8);
    out.narrow(0, start, len).copy_(x);
  }
  return out;
}

// The data folder chosen by the rules of DataLoadOptions (data/dataset.h).
struct DataRoot {
  std::string given;  // as the user or the config wrote it
  std::string path;   // absolute, normalised; the folder to read (it may not exist)
  std::string from;   // "--data-root", "CNNKIT_DATA", "config"
  std::vector<std::string> tried;  // every absolute candidate, in order
};

std::string absolute_path(const fs::path& p) { return fs::absolute(p).lexically_normal().string(); }

DataRoot resolve_root(const Config& config, const DataConfig& d, const DataLoadOptions& o) {
  DataRoot r;
  if (!o.data_root.empty()) {
    r = {o.data_root, absolute_path(o.data_root), "--data-root", {}};
  } else if (const char* env = std::getenv("CNNKIT_DATA"); env && *env) {
    r = {env, absolute_path(env), "CNNKIT_DATA", {}};
  } else if (fs::path(d.root).is_absolute()) {
    r = {d.root, absolute_path(d.root), "config", {}};
  } else {
    r = {d.root, "", "config", {}};
    if (o.trained_root && o.trained_root->config == d.root && !o.trained_root->resolved.empty())
      r.tried.push_back(absolute_path(o.trained_root->resolved));
    const std::string& file = config.source().file;
    if (!config.source().stored && !file.empty())
      r.tried.push_back(absolute_path(fs::absolute(file).parent_path() / d.root));
    r.tried.push_back(absolute_path(d.root));
    std::error_code ec;
    for (const auto& t : r.tried) {
      if (fs::is_directory(t, ec)) {
        r.path = t;
        break;
      }
    }
    if (r.path.empty()) r.path = r.tried.back();
  }
  if (r.tried.empty()) r.tried.push_back(r.path);
  return r;
}

[[noreturn]] void throw_root_not_found(const DataRoot& r) {
  std::string where;
  if (r.from == "config") {
    where = "root from config data.root; looked in ";
    std::vector<std::string> uniq;
    for (const auto& t : r.tried)
      if (std::find(uniq.begin(), uniq.end(), t) == uniq.end()) uniq.push_back(t);
    where += join(uniq, ", ");
  } else {
    where = "root from " + r.from;
  }
  throw DataError(r.given + ": data folder not found (" + where +
                  "); give the data's folder with --data-root DIR (relative roots in a config resolve against the "
                  "config file's folder, then the current one; scripts/get-data.sh fetches MNIST, Fashion-MNIST and "
                  "CIFAR-10)");
}

nlohmann::json describe_split(const ImageSet& s, std::size_t classes) {
  return {{"images", s.size()}, {"per_class", class_counts(s, static_cast<std::int64_t>(classes))}};
}

}  // namespace

Datasets load_datasets(const Config& config, const DataLoadOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const DataConfig d = data_config_from(config);
  const auto& in = config.resolved().at("input");
  const InputShape target{in.at("channels").get<std::int64_t>(), in.at("height").get<std::int64_t>(),
                          in.at("width").get<std::int64_t>()};
  const DataRoot found = resolve_root(config, d, options);
  const std::string& root = found.path;
  const std::string& root_from = found.from;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw_root_not_found(found);

  LoadedSource l = data_source_registry().get(d.source).load(
      SourceRequest{d.section, root, target, options.need_train, options.need_test});

  std::vector<std::string> notes;
  if (l.train.size()) l.train.images = fit_to_input(l.train.images, target, "train", notes);
  if (l.test.size()) l.test.images = fit_to_input(l.test.images, target, "test", notes);
  const auto loaded_train = l.train.size(), loaded_test = l.test.size();

  Datasets ds;
  ds.class_names = l.class_names;
  ImageSet train = stratified_limit(l.train, d.limit_train, d.split_seed);
  std::tie(ds.train, ds.validation) = split_validation(train, d.validation_split, d.split_seed);
  ds.test = stratified_limit(l.test, d.limit_test, d.split_seed);
  if (options.need_train && d.validation_split > 0 && ds.train.size() == 0) {
    throw DataError(root + ": validation_split " + std::to_string(d.validation_split) + " leaves no training images");
  }

  nlohmann::json stats = nullptr;
  if (ds.train.size()) {
    Normalization pixel = compute_normalization(ds.train.images);
    if (options.need_train) write_cached_pixel_stats(pixel_stats_key(config, root), l.files, pixel);
    stats = normalization_to_json(pixel);
    ds.normalization = d.normalize_mode == "auto" ? auto_normalization(pixel) : *normalization_from_config(config);
  } else if (auto n = normalization_from_config(config)) {
    ds.normalization = *n;
  }

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::size_t k = ds.class_names.size();
  nlohmann::json desc;
  desc["source"] = d.source;
  desc["root"] = root;
  desc["root_from"] = root_from;
  desc["files"] = l.files;
  desc["source_shape"] = l.source_shape.size() == 3 ? Shape{l.source_shape}.to_json() : nlohmann::json(nullptr);
  desc["image_shape"] = Shape::spatial(target.channels, target.height, target.width).to_json();
  desc["conversions"] = notes;
  desc["num_classes"] = k;
  desc["class_names"] = ds.class_names;
  desc["loaded"] = {{"train", loaded_train}, {"test", loaded_test}};
  desc["splits"] = {{"train", describe_split(ds.train, k)},
                    {"validation", describe_split(ds.validation, k)},
                    {"test", describe_split(ds.test, k)}};
  desc["validation_split"] = {{"fraction", d.validation_split}, {"seed", d.split_seed}, {"stratified", true}};
  desc["limits"] = {{"train", d.limit_train}, {"test", d.limit_test}};
  desc["pixel_stats"] = stats;  // of the training split, on [0, 1]
  desc["normalization"] = {{"mode", d.normalize_mode == "fixed" ? "config" : d.normalize_mode},
                           {"mean", ds.normalization.mean},
                           {"std", ds.normalization.std}};
  desc["augment"] = config.resolved().at("data").at("augment");
  for (auto it = l.extra.begin(); it != l.extra.end(); ++it) desc[it.key()] = it.value();
  desc["load_seconds"] = seconds;
  ds.description = std::move(desc);
  spdlog::debug("data loaded in {:.2f} s", seconds);
  return ds;
}

TrainingNormalization training_normalization(const Config& config, const DataLoadOptions& options) {
  if (auto n = normalization_from_config(config)) return {*n, "config"};
  const DataConfig d = data_config_from(config);
  const std::string root = resolve_root(config, d, options).path;
  if (auto cached = read_cached_pixel_stats(pixel_stats_key(config, root))) {
    return {auto_normalization(*cached), "training split (cached)"};
  }
  DataLoadOptions load = options;
  load.need_train = true;
  load.need_test = false;
  Datasets ds = load_datasets(config, load);
  if (ds.train.size() == 0) {
    throw DataError(root + ": data.normalize is \"auto\" but there is no training data to compute it from");
  }
  return {ds.normalization, "training split"};
}

}  // namespace cnnkit
