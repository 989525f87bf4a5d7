// load_datasets: the data section -> images in memory, split, limited, described.
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>

#include "cnnkit/core/error.h"
#include "cnnkit/core/strings.h"
#include "cnnkit/data/cifar.h"
#include "cnnkit/data/data_config.h"
#include "cnnkit/data/dataset.h"
#include "cnnkit/data/idx.h"
#include "cnnkit/data/image_folder.h"
#include "cnnkit/data/normalization.h"
#include "cnnkit/data/split.h"
#include "cnnkit/data/stats_cache.h"

namespace cnnkit {
namespace fs = std::filesystem;
namespace {

struct Target {
  std::int64_t channels, height, width;
};

struct Loaded {
  ImageSet train, test;
  std::vector<std::string> class_names, files;
  std::vector<std::int64_t> source_shape;  // [C, H, W] as stored
  nlohmann::json extra = nlohmann::json::object();
};

std::string shape_str(std::int64_t c, std::int64_t h, std::int64_t w) {
  return std::to_string(c) + "×" + std::to_string(h) + "×" + std::to_string(w);
}

// Channel conversion (1 -> 3 replicates gray; 3 -> 1 uses the luma weights OpenCV uses, so
// binary and image-folder sources agree) and resizing (antialiased bilinear), in chunks.
torch::Tensor fit_to_input(const torch::Tensor& images, const Target& t, const std::string& what,
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

ImageSet load_idx_pair(const std::string& root, const std::string& split, std::int64_t classes,
                       std::vector<std::string>& files) {
  auto names = mnist_file_names(split);
  std::string images_path = find_idx_file(root, names[0]);
  std::string labels_path = find_idx_file(root, names[1]);
  files.push_back(images_path);
  files.push_back(labels_path);
  ImageSet set{read_idx_images(images_path), read_idx_labels(labels_path, classes)};
  if (set.images.size(0) != set.labels.size(0)) {
    throw DataError(labels_path + ": " + std::to_string(set.labels.size(0)) + " labels but " + images_path + " has " +
                    std::to_string(set.images.size(0)) + " images");
  }
  return set;
}

Loaded load_mnist(const DataConfig& d, const std::string& root, const DataLoadOptions& o) {
  Loaded l;
  l.class_names = d.class_names;
  const auto classes = static_cast<std::int64_t>(l.class_names.size());
  if (o.need_train) l.train = load_idx_pair(root, "train", classes, l.files);
  if (o.need_test) l.test = load_idx_pair(root, "t10k", classes, l.files);
  const ImageSet& any = l.train.size() ? l.train : l.test;
  if (any.images.defined()) l.source_shape = {1, any.images.size(2), any.images.size(3)};
  if (l.train.size() && l.test.size() &&
      (l.train.images.size(2) != l.test.images.size(2) || l.train.images.size(3) != l.test.images.size(3))) {
    throw DataError(l.files[2] + ": images are " + std::to_string(l.test.images.size(2)) + "×" +
                    std::to_string(l.test.images.size(3)) + " but the training images are " +
                    std::to_string(l.train.images.size(2)) + "×" + std::to_string(l.train.images.size(3)));
  }
  return l;
}

Loaded load_cifar(const DataConfig& d, const std::string& root, const DataLoadOptions& o) {
  Loaded l;
  CifarLayout layout = cifar_layout(d.source);
  auto paths = [&](const std::vector<std::string>& names) {
    std::vector<std::string> out;
    for (const auto& n : names) out.push_back((fs::path(root) / n).string());
    return out;
  };
  if (o.need_train) {
    auto p = paths(layout.train_files);
    l.train = read_cifar_files(p, layout);
    l.files.insert(l.files.end(), p.begin(), p.end());
  }
  if (o.need_test) {
    auto p = paths(layout.test_files);
    l.test = read_cifar_files(p, layout);
    l.files.insert(l.files.end(), p.begin(), p.end());
  }
  const std::string names = (fs::path(root) / layout.names_file).string();
  l.class_names = read_cifar_class_names(names, layout);
  if (fs::exists(names)) l.files.push_back(names);
  l.source_shape = {3, 32, 32};
  return l;
}

Loaded load_folder(const DataConfig& d, const std::string& root, const DataLoadOptions& o, const Target& t) {
  Loaded l;
  if (t.channels != 1 && t.channels != 3) {
    throw DataError(root + ": image folders give 1 (gray) or 3 (RGB) channels; the model input has " +
                    std::to_string(t.channels));
  }
  const std::string train_dir = (fs::path(root) / d.train_dir).string();
  const std::string test_dir = d.test_dir.empty() ? "" : (fs::path(root) / d.test_dir).string();
  FolderLoadOptions fo;
  fo.channels = static_cast<int>(t.channels);
  fo.size = ImageSize{t.height, t.width};
  fo.resize = d.resize;
  fo.skip_bad = d.on_bad_image == "skip";
  std::int64_t skipped = 0, resized = 0;
  nlohmann::json skipped_files = nlohmann::json::array();
  auto load = [&](const FolderScan& scan) {
    auto r = load_image_folder(scan, fo);
    skipped += static_cast<std::int64_t>(r.skipped.size());
    resized += r.resized;
    for (const auto& f : r.skipped) skipped_files.push_back(f);
    return r.set;
  };
  std::error_code ec;
  if (o.need_train || fs::is_directory(train_dir, ec) || test_dir.empty()) {
    FolderScan train = scan_image_folder(train_dir);
    l.class_names = train.class_names;
    l.files.push_back(train_dir);
    if (o.need_train) l.train = load(train);
  }
  if (o.need_test && !test_dir.empty()) {
    FolderScan test = scan_image_folder(test_dir, l.class_names);
    if (l.class_names.empty()) l.class_names = test.class_names;
    l.files.push_back(test_dir);
    l.test = load(test);
  }
  l.source_shape = {t.channels, t.height, t.width};
  l.extra["skipped_images"] = skipped;
  l.extra["skipped_files"] = skipped_files;
  l.extra["resized_images"] = resized;
  return l;
}

std::pair<std::string, std::string> resolve_root(const DataConfig& d, const DataLoadOptions& o) {
  if (!o.data_root.empty()) return {o.data_root, "--data-root"};
  if (const char* env = std::getenv("CNNKIT_DATA"); env && *env) return {env, "CNNKIT_DATA"};
  return {d.root, "config"};
}

// The root as loads and the statistics cache name it: absolute, normalised.
std::string absolute_root(const std::string& given) { return fs::absolute(given).lexically_normal().string(); }

nlohmann::json describe_split(const ImageSet& s, std::size_t classes) {
  return {{"images", s.size()}, {"per_class", class_counts(s, static_cast<std::int64_t>(classes))}};
}

}  // namespace

Datasets load_datasets(const Config& config, const DataLoadOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const DataConfig d = data_config_from(config);
  const auto& in = config.resolved().at("input");
  const Target target{in.at("channels").get<std::int64_t>(), in.at("height").get<std::int64_t>(),
                      in.at("width").get<std::int64_t>()};
  auto [root_given, root_from] = resolve_root(d, options);
  const std::string root = absolute_root(root_given);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    throw DataError(root_given + ": data folder not found (root from " + root_from +
                    (root_from == "config" ? " data.root" : "") +
                    "; relative roots resolve against the current folder; scripts/get-data.sh fetches "
                    "MNIST, Fashion-MNIST and CIFAR-10)");
  }

  Loaded l;
  if (d.source == "mnist") l = load_mnist(d, root, options);
  else if (d.source == "folder") l = load_folder(d, root, options, target);
  else l = load_cifar(d, root, options);

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
  desc["source_shape"] = l.source_shape;
  desc["image_shape"] = {target.channels, target.height, target.width};
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
  const std::string root = absolute_root(resolve_root(d, options).first);
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
