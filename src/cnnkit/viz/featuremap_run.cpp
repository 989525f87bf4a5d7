#include "cnnkit/viz/featuremap_run.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <exception>
#include <mutex>
#include <thread>
#include <fstream>
#include <optional>
#include <cmath>
#include <set>

#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "cnnkit/config/config.h"
#include "cnnkit/core/error.h"
#include "cnnkit/core/strings.h"
#include "cnnkit/core/terminal.h"
#include "cnnkit/data/dataset.h"
#include "cnnkit/data/normalization.h"
#include "cnnkit/eval/trained_model.h"
#include "cnnkit/io/image_io.h"
#include "cnnkit/model/checkpoint.h"
#include "cnnkit/train/training_config.h"
#include "cnnkit/viz/feature_maps.h"
#include "cnnkit/viz/figure.h"
#include "cnnkit/viz/filters.h"

namespace cnnkit {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kMapMinSide = 128;    // auto scale: maps at least this many pixels on their long side
constexpr int kStripMinWidth = 512; // auto scale: strips at least this wide
constexpr int kStripMinCell = 8;
constexpr int kKernelMinSide = 48;  // filter tiles: 3×3 kernels at 16×, 5×5 at 10×, 7×7 at 7×

// One model being looked at: a trained checkpoint, or the untrained model of a config.
struct Side {
  std::string label;   // "A" / "B" when comparing, else "model"
  std::string source;  // checkpoint path, or "untrained"
  bool trained = false;
  Config config;
  Model model;
  Normalization norm;
  std::string norm_from;
  std::vector<std::string> class_names;  // the checkpoint's, or the data's for an untrained model
  std::optional<TrainedDataRoot> trained_root;  // the run's data folder, when `config` is the run's
};

std::uint64_t training_seed(const Config& config) { return TrainingConfig::from(config).seed; }

Side checkpoint_side(const std::string& spec, const std::optional<Config>& user, const std::vector<std::string>& sets) {
  // A run directory stands for the checkpoint evaluate would take (best.pt only when chosen on a
  // validation split).
  TrainedModel t = load_trained_model(choose_checkpoint_to_evaluate(spec).path, "best.pt", user,
                                      user ? std::vector<std::string>{} : sets);
  Side s;
  s.source = t.checkpoint.path;
  s.trained = true;
  s.config = t.config;
  s.model = std::move(t.model);
  s.norm = t.normalization;
  s.norm_from = "checkpoint";
  s.class_names = t.class_names;
  if (!user) s.trained_root = trained_data_root(t.checkpoint);
  return s;
}

// The model training starts from: torch::manual_seed(training.seed), then build_model (as the
// trainer does), so the "before" picture is reproducible.
Side untrained_side(const Config& config, const std::optional<Normalization>& norm, const std::string& data_root) {
  Side s;
  s.source = "untrained";
  s.config = config;
  torch::manual_seed(training_seed(config));
  s.model = build_model(config);
  if (norm) {
    s.norm = *norm;
    s.norm_from = "the compared checkpoint";
    return s;
  }
  if (config.has_section("data")) {
    try {
      // "auto": the statistics training will compute from the training split (cached after
      // the first time, so the "before" picture does not reload the dataset).
      DataLoadOptions load;
      load.data_root = data_root;
      TrainingNormalization t = training_normalization(config, load);
      s.norm = t.normalization;
      s.norm_from = t.from;
      return s;
    } catch (const Error& e) {
      spdlog::warn("{}", e.what());
    }
  }
  const auto c = static_cast<std::size_t>(s.model.input.channels());
  s.norm.mean.assign(c, 0.0);
  s.norm.std.assign(c, 1.0);
  s.norm_from = "none";
  spdlog::warn("{}: normalisation is {}; the training data could not be read, so the untrained model's input uses mean 0 / std 1",
               config.source().file, config.has_section("data") ? "\"auto\"" : "not configured (no data section)");
  return s;
}

std::vector<Side> load_sides(const FeaturemapOptions& o) {
  std::optional<Config> user;
  if (!o.config.empty()) user = load_config(o.config, o.sets);
  std::vector<Side> sides;
  if (o.compare.empty()) {
    if (!o.checkpoint.empty()) {
      sides.push_back(checkpoint_side(o.checkpoint, user, o.sets));
    } else if (user) {
      sides.push_back(untrained_side(*user, std::nullopt, o.data_root));
    } else {
      throw UsageError("featuremap needs --checkpoint FILE|RUN_DIR, --config FILE (the untrained model) or --compare A B");
    }
    sides[0].label = "model";
    return sides;
  }
  if (o.compare.size() != 2) throw UsageError("--compare takes two models: A B (checkpoint, run directory or 'untrained')");
  if (!o.checkpoint.empty()) throw UsageError("--checkpoint and --compare exclude each other: name both models in --compare A B");
  const bool a_untrained = o.compare[0] == "untrained", b_untrained = o.compare[1] == "untrained";
  if (a_untrained && b_untrained && !user) {
    throw UsageError("--compare untrained untrained: give --config FILE for the untrained model (and compare it with a checkpoint)");
  }
  std::optional<Side> a, b;
  if (!a_untrained) a = checkpoint_side(o.compare[0], user, o.sets);
  if (!b_untrained) b = checkpoint_side(o.compare[1], user, o.sets);
  auto other_config = [&](const std::optional<Side>& other) { return user ? *user : other->config; };
  auto other_norm = [&](const std::optional<Side>& other) {
    return other ? std::optional<Normalization>(other->norm) : std::nullopt;
  };
  if (a_untrained) a = untrained_side(other_config(b), other_norm(b), o.data_root);
  if (b_untrained) b = untrained_side(other_config(a), other_norm(a), o.data_root);
  a->label = "A";
  b->label = "B";
  sides.push_back(std::move(*a));
  sides.push_back(std::move(*b));
  return sides;
}

struct Input {
  std::string source;  // image path, or "test[N]"
  json info;
  torch::Tensor image;  // uint8 [C, H, W], the model's input size
};

// Also gives the test split's class names to sides that have none (an untrained model).
std::vector<Input> load_inputs(const FeaturemapOptions& o, std::vector<Side>& sides) {
  const Model& model = sides[0].model;
  std::vector<Input> inputs;
  const ImageSize size{model.input.height(), model.input.width()};
  for (const auto& path : o.images) {
    Input in;
    in.source = path;
    ImageSize original;
    in.image = read_image(path, static_cast<int>(model.input.channels()), size, &original);
    in.info = {{"source", "image"}, {"image", path}, {"original_size", {original.height, original.width}}};
    inputs.push_back(std::move(in));
  }
  std::vector<std::int64_t> indices = o.indices;
  if (indices.empty() && o.images.empty()) indices.push_back(0);
  if (indices.empty()) return inputs;

  // The data config: --config when given, else the first checkpoint's (its resolved config).
  const Side* with_data = nullptr;
  for (const auto& s : sides)
    if (!with_data && (s.trained || !o.config.empty())) with_data = &s;
  if (!with_data) with_data = &sides[0];
  const Config& data_config = with_data->config;
  DataLoadOptions load;
  load.data_root = o.data_root;
  load.need_train = false;
  load.need_test = true;
  load.trained_root = with_data->trained_root;
  Datasets data = load_datasets(data_config, load);
  for (auto& s : sides)
    if (s.class_names.empty()) s.class_names = data.class_names;
  const std::int64_t n = data.test.size();
  for (auto index : indices) {
    if (index < 0 || index >= n) {
      throw UsageError("--index " + std::to_string(index) + ": the test split of " + data_config.source().file + " has " +
                       std::to_string(n) + " images" + (n ? " (0.." + std::to_string(n - 1) + ")" : ""));
    }
    Input in;
    in.source = "test[" + std::to_string(index) + "]";
    in.image = data.test.images[index].contiguous();
    if (in.image.size(0) != model.input.channels()) {
      throw DataError(data_config.source().file + ": test images have " + std::to_string(in.image.size(0)) +
                      " channels but the model takes " + model.input.str());
    }
    if (in.image.size(1) != size.height || in.image.size(2) != size.width) in.image = resize_image(in.image, size);
    const std::int64_t label = data.test.labels[index].item<std::int64_t>();
    in.info = {{"source", "test"}, {"index", index}, {"label", label}};
    if (label >= 0 && label < static_cast<std::int64_t>(data.class_names.size())) in.info["class_name"] = data.class_names[label];
    inputs.push_back(std::move(in));
  }
  return inputs;
}

void prepare_out_dir(const fs::path& out) {
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec || !fs::is_directory(out)) {
    throw Error("--out " + out.string() + ": cannot create the output folder: " +
                (ec ? ec.message() : std::string("a file is in the way")));
  }
  const fs::path probe = out / (".cnnkit-write-test-" + std::to_string(::getpid()));
  {
    std::ofstream f(probe);
    if (!f) throw Error("--out " + out.string() + ": the output folder is not writable");
  }
  fs::remove(probe, ec);
}

std::string safe_name(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') ? c : '_';
  return out;
}

std::string short_source(const Side& s) {
  if (!s.trained) return "untrained";
  fs::path p(s.source);
  return p.has_parent_path() ? (p.parent_path().filename() / p.filename()).string() : p.string();
}

json stats_json(const MapStats& st, std::size_t i) {
  return {{"min", st.min[i]}, {"max", st.max[i]}, {"mean", st.mean[i]}, {"zero_fraction", st.zero_fraction[i]}};
}

std::string channel_file(std::int64_t c) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "channel_%03lld.png", static_cast<long long>(c));
  return buf;
}

// Files to write, collected first and then encoded in parallel.
struct Job {
  fs::path path;
  torch::Tensor image;  // uint8 [C, H, W] on the CPU
};

class Writer {
 public:
  void add(const fs::path& path, torch::Tensor image, json entry) {
    entry["path"] = path.string();
    entry["image_size"] = {image.size(1), image.size(2)};
    jobs_.push_back({path, std::move(image)});
    files_.push_back(std::move(entry));
  }
  json files() const { return files_; }
  void write_all(int threads) {
    std::set<fs::path> dirs;
    for (const auto& j : jobs_) dirs.insert(j.path.parent_path());
    for (const auto& d : dirs) fs::create_directories(d);
    // PNG encoding dominates a many-channel export: spread the files over the threads.
    const std::size_t n_workers = std::min<std::size_t>(jobs_.size(), static_cast<std::size_t>(std::max(1, threads)));
    std::atomic<std::size_t> next{0};
    std::exception_ptr first_error;
    std::mutex error_mutex;
    auto work = [&] {
      for (std::size_t i = next++; i < jobs_.size(); i = next++) {
        try {
          write_png(jobs_[i].path, jobs_[i].image, /*durable=*/false);
        } catch (...) {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (!first_error) first_error = std::current_exception();
          next = jobs_.size();  // stop the others early
        }
      }
    };
    std::vector<std::thread> workers;
    for (std::size_t t = 1; t < n_workers; ++t) workers.emplace_back(work);
    work();
    for (auto& t : workers) t.join();
    if (first_error) std::rethrow_exception(first_error);
  }

 private:
  std::vector<Job> jobs_;
  json files_ = json::array();
};

// What the pictures of one input show besides the maps: the input itself and, per model, its
// prediction.
struct InputView {
  torch::Tensor shown;              // uint8 [C, H, W], upscaled as input.png
  std::string caption;              // under the input image
  std::vector<std::string> info;    // lines under the title
};

std::string side_name(const std::vector<Side>& sides, std::size_t i) {
  const Side& s = sides[i];
  if (!s.trained) return "untrained";
  if (sides.size() == 2 && !sides[1 - i].trained) return "trained";
  return short_source(s);
}

// "untrained", or "trained (runs/x/best.pt)": what side i is, for info lines.
std::string side_caption(const std::vector<Side>& sides, std::size_t i) {
  return sides[i].trained ? side_name(sides, i) + " (" + sides[i].source + ")" : "untrained";
}

std::string layer_title(const LayerRef& ref, const std::string& what) {
  const BuiltLayer& layer = *ref.layer;
  return "layer " + ref.path + " (" + layer.name + "): " + describe_layer(layer) + what;
}

std::string range_text(double lo, double hi) { return "[" + short_number(lo) + ", " + short_number(hi) + "]"; }

// The colour bar of feature maps: what the colours mean under each --normalize mode.
ColorBarSpec map_bar(const FeaturemapOptions& o, MapNormalize mode, double lo, double hi, bool compare) {
  ColorBarSpec bar;
  bar.colormap = o.colormap;
  if (mode == MapNormalize::kLayer) {
    bar.low = short_number(lo);
    bar.high = short_number(hi);
    bar.caption = std::string("one colour scale for every channel") + (compare ? " and both models" : "") +
                  " (--normalize layer)";
  } else {
    bar.low = "channel min";
    bar.high = "channel max";
    bar.caption = std::string("each channel scaled to its own range, given under it") +
                  (compare ? " (shared by A and B)" : "") + "; values in the layer " + range_text(lo, hi) +
                  " (--normalize channel)";
  }
  return bar;
}

std::string percent(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * p);
  return buf;
}

// "-3.04", "12.50", "1.2e+03": two decimals while that stays short.
std::string logit_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, std::abs(v) < 100 ? "%.2f" : "%.3g", v);
  return buf;
}

// The output layer (flat, one unit per class): one tile per class with its name, its value
// (logit) and its softmax probability; per model one row.
torch::Tensor output_layer_grid(const std::vector<torch::Tensor>& outs, const torch::Tensor& colored,
                                const std::vector<std::string>& names, const std::vector<Side>& sides) {
  const std::int64_t k = static_cast<std::int64_t>(names.size());
  int name_w = 0;
  for (const auto& n : names) name_w = std::max(name_w, static_cast<int>(n.size()) * 8);
  const int cell = std::clamp(name_w + 8, 56, 96);
  std::vector<std::string> labels, rows;
  std::vector<torch::Tensor> tiles;
  const bool compare = sides.size() == 2;
  for (std::size_t side = 0; side < outs.size(); ++side) {
    auto values = outs[side].reshape({-1}).to(torch::kCPU, torch::kFloat64);
    auto probs = torch::softmax(values, 0);
    for (std::int64_t c = 0; c < k; ++c) {
      tiles.push_back(upscale_nearest(colored[static_cast<std::int64_t>(side)][0].narrow(-1, c, 1), cell));
      labels.push_back(names[c] + "\n" + logit_text(values[c].item<double>()) + "\n" + percent(probs[c].item<double>()));
    }
    if (compare) rows.push_back(sides[side].label);
  }
  GridOptions grid;
  grid.scale = 1;
  grid.columns = static_cast<int>(k);
  grid.row_labels = rows;
  return make_grid(torch::stack(tiles), labels, grid);
}

// One layer's output for one input, for every side: rendered, and added to the writer.
void render_layer(const LayerRef& ref, const std::vector<torch::Tensor>& outs, const std::vector<Side>& sides,
                  const FeaturemapOptions& o, MapNormalize mode, const fs::path& dir, int input_index,
                  const InputView& view, bool output_layer, Writer& w) {
  const bool compare = sides.size() == 2;
  const BuiltLayer& layer = *ref.layer;
  const Shape& shape = layer.output;
  json base = {{"layer", ref.path}, {"layer_name", layer.name}, {"layer_type", layer.type},
               {"shape", shape.to_json()}, {"input", input_index}};
  // Statistics per side: per channel (spatial) and over the whole layer.
  std::vector<MapStats> channel_stats, layer_stats;
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& t : outs) {
    layer_stats.push_back(map_stats(t.reshape({1, -1})));
    lo = std::min(lo, layer_stats.back().min[0]);
    hi = std::max(hi, layer_stats.back().max[0]);
    if (shape.is_spatial()) channel_stats.push_back(map_stats(t));
  }
  auto with_stats = [&](json e, const std::vector<MapStats>& st, std::size_t i) {
    if (!compare) {
      e.update(stats_json(st[0], i));
    } else {
      e["models"] = json::array();
      for (std::size_t k = 0; k < sides.size(); ++k) {
        json m = stats_json(st[k], i);
        m["model"] = sides[k].label;
        m["source"] = sides[k].source;
        e["models"].push_back(m);
      }
    }
    return e;
  };
  FigureSpec fig;
  fig.input = view.shown;
  fig.input_caption = view.caption;
  fig.info = view.info;
  json e = base;
  e["kind"] = compare ? "compare" : "grid";
  e["channel"] = nullptr;
  const fs::path grid_file = dir / (compare ? "compare.png" : "grid.png");

  if (!shape.is_spatial()) {
    const auto f = shape.numel();
    const auto k = static_cast<std::int64_t>(outs.size());
    auto flat = torch::stack(outs).reshape({k, -1});
    fig.bar = ColorBarSpec{o.colormap, short_number(lo), short_number(hi),
                           std::string("one colour scale for every unit") + (compare ? " and both models" : "")};
    if (output_layer) {
      auto colored = colorize(maps_to_uint8(flat.view({k, 1, 1, f}), MapNormalize::kLayer), o.colormap).cpu();
      fig.title = layer_title(ref, ", output " + shape.str() + " units, one per class (the output layer)");
      fig.body = output_layer_grid(outs, colored, sides[0].class_names, sides);
      fig.bar->caption += "; under each class: its value (logit) and softmax probability";
    } else if (f <= 128) {
      // Each unit one tile with its value under it, 16 to a row.
      const std::int64_t cols = std::min<std::int64_t>(f, 16);
      auto colored = colorize(maps_to_uint8(flat.view({k, 1, 1, f}), MapNormalize::kLayer), o.colormap).cpu();
      std::vector<torch::Tensor> tiles;
      std::vector<std::string> labels, rows;
      for (std::int64_t start = 0; start < f; start += cols) {
        for (std::int64_t side = 0; side < k; ++side) {
          const std::int64_t n = std::min(cols, f - start);
          for (std::int64_t u = 0; u < cols; ++u) {
            const std::int64_t unit = std::min(start + u, f - 1);
            auto tile = upscale_nearest(colored[side][0].narrow(-1, unit, 1), 40);
            if (u >= n) tile = torch::full_like(tile, 32);
            tiles.push_back(tile);
            labels.push_back(u < n ? short_number(flat[side][unit].item<double>()) : "");
          }
          rows.push_back((compare ? sides[static_cast<std::size_t>(side)].label + " " : "") + std::to_string(start));
        }
      }
      GridOptions grid;
      grid.scale = 1;
      grid.columns = static_cast<int>(cols);
      grid.padding = 2;
      grid.row_labels = rows;
      fig.title = layer_title(ref, ", output " + shape.str() + " units (rows start at the unit given on the left)");
      fig.body = make_grid(torch::stack(tiles), labels, grid);
    } else {
      auto strip = flat_to_strip(flat);
      const auto cols = strip.size(3);
      const int scale = o.scale > 0 ? o.scale
                                    : std::max<int>(kStripMinCell, static_cast<int>((kStripMinWidth + cols - 1) / cols));
      auto images = upscale_nearest(colorize(maps_to_uint8(strip, MapNormalize::kLayer), o.colormap), scale).cpu();
      std::vector<std::string> labels;
      if (compare) labels = {"A: " + side_name(sides, 0), "B: " + side_name(sides, 1)};
      GridOptions grid;
      grid.scale = 1;
      grid.columns = 1;
      fig.title = layer_title(ref, ", output " + shape.str() + " units in rows of " + std::to_string(cols) +
                                       ", left to right, top to bottom");
      fig.body = make_grid(images.select(1, 0), labels, grid);
    }
    w.add(grid_file, render_figure(fig).image, with_stats(e, layer_stats, 0));
    return;
  }

  const torch::Tensor maps = torch::stack(outs);  // [K, C, H, W]
  const int scale = o.scale > 0 ? o.scale : auto_scale(shape.height(), shape.width(), kMapMinSide);
  // [K, C, 3|1, H*s, W*s] on the CPU
  auto images = upscale_nearest(colorize(maps_to_uint8(maps, mode), o.colormap), scale).cpu();
  const std::int64_t k = images.size(0), c = images.size(1);
  // The range each channel's colours span (shared by A and B when comparing).
  auto ch_lo = std::get<0>(maps.amin({2, 3}).min(0)).cpu(), ch_hi = std::get<0>(maps.amax({2, 3}).max(0)).cpu();
  // Under each tile: its name and, per channel, the range its colours span (a second line).
  auto channel_range = [&](std::int64_t ch) {
    return mode == MapNormalize::kChannel ? "\n" + range_text(ch_lo[ch].item<double>(), ch_hi[ch].item<double>())
                                          : std::string();
  };
  for (std::int64_t ch = 0; ch < c; ++ch) {
    torch::Tensor img = images[0][ch];
    if (compare) {
      img = captioned_pair(images[0][ch], "A: " + side_name(sides, 0), images[1][ch], "B: " + side_name(sides, 1),
                           "layer " + ref.path + ", channel " + std::to_string(ch));
    }
    json ce = base;
    ce["kind"] = compare ? "compare" : "channel";
    ce["channel"] = ch;
    w.add(dir / channel_file(ch), img.contiguous(), with_stats(ce, channel_stats, static_cast<std::size_t>(ch)));
  }
  std::vector<std::string> labels;
  torch::Tensor tiles;
  GridOptions grid;
  grid.scale = 1;
  if (compare) {  // A c0, B c0, A c1, B c1, ...: each pair side by side
    tiles = images.transpose(0, 1).reshape({k * c, images.size(2), images.size(3), images.size(4)});
    for (std::int64_t ch = 0; ch < c; ++ch)
      for (const auto& s : sides)
        labels.push_back(s.label + " c" + std::to_string(ch) + (s.label == "B" ? std::string() : channel_range(ch)));
    grid.columns = 2 * static_cast<int>(std::ceil(std::sqrt(static_cast<double>(c))));
    grid.gap_every = 2;
  } else {
    tiles = images[0];
    for (std::int64_t ch = 0; ch < c; ++ch) labels.push_back("c" + std::to_string(ch) + channel_range(ch));
  }
  fig.title = layer_title(ref, ", output " + shape.str() + " (H×W×C): " + plural(c, "channel"));
  fig.body = make_grid(tiles, labels, grid);
  fig.bar = map_bar(o, mode, lo, hi, compare);
  w.add(grid_file, render_figure(fig).image, with_stats(e, layer_stats, 0));
}

void render_filters(const LayerRef& ref, const std::vector<Side>& sides, const FeaturemapOptions& o, MapNormalize mode,
                    const fs::path& dir, Writer& w) {
  std::vector<torch::Tensor> kernels;
  for (const auto& s : sides) {
    auto kernel = conv_kernel(*s.model.find_layer(ref.path).layer);
    if (!kernel.defined()) return;
    kernels.push_back(kernel.detach());
  }
  const BuiltLayer& layer = *ref.layer;
  const bool compare = sides.size() == 2;
  auto weight = torch::cat(kernels, 0);
  const std::int64_t filters = kernels[0].size(0), in = weight.size(1), kh = weight.size(2), kw = weight.size(3);
  const bool rgb = in == 3 && layer.input.is_spatial() && layer.input.channels() == 3 && sides[0].model.input.channels() == 3;
  // Tiles about kKernelMinSide px, smaller for large layers so the picture stays near 2,000 px.
  const std::int64_t across = rgb || in == 1 ? 1 : std::max(filters, in * static_cast<std::int64_t>(sides.size()));
  const int side_px = static_cast<int>(std::clamp<std::int64_t>(2000 / std::max<std::int64_t>(1, across), 12, kKernelMinSide));
  // --scale sizes the maps; filter tiles never get smaller than their automatic size (a 3×3
  // kernel at the maps' 3× would be 9 px).
  const int scale = std::max(o.scale, auto_scale(kh, kw, side_px));
  FilterImages f = filter_images(weight, rgb, mode, o.colormap, scale, static_cast<int>(sides.size()));
  auto tiles = f.images.cpu();  // rgb or in == 1: one per filter; else filter-major (f, i)
  std::vector<std::string> labels;
  GridOptions grid;
  grid.scale = 1;
  const std::string kernel = std::to_string(kh) + "×" + std::to_string(kw);
  std::string layout;
  if (rgb || in == 1) {
    if (compare) {  // A f0, B f0, A f1, B f1, ...
      tiles = tiles.view({2, filters, tiles.size(1), tiles.size(2), tiles.size(3)}).transpose(0, 1).reshape(
          {2 * filters, tiles.size(1), tiles.size(2), tiles.size(3)});
      for (std::int64_t i = 0; i < filters; ++i)
        for (const auto& s : sides) labels.push_back(s.label + " f" + std::to_string(i));
      grid.columns = 2 * static_cast<int>(std::ceil(std::sqrt(static_cast<double>(filters))));
      grid.gap_every = 2;
      layout = "each filter before (A) and after (B) side by side";
    } else {
      for (std::int64_t i = 0; i < filters; ++i) labels.push_back("f" + std::to_string(i));
      // Up to 16 across: wide rows under the long title rather than a square block beside a
      // blank margin.
      grid.columns = static_cast<int>(std::min<std::int64_t>(filters, 16));
      layout = "filters f0, f1, ... left to right, top to bottom";
    }
  } else {
    // One row per filter; its input channels across (A's, then B's when comparing).
    const std::int64_t k = static_cast<std::int64_t>(sides.size());
    tiles = tiles.view({k, filters, in, tiles.size(1), tiles.size(2), tiles.size(3)})
                .transpose(0, 1)
                .reshape({filters * k * in, tiles.size(1), tiles.size(2), tiles.size(3)});
    grid.columns = static_cast<int>(k * in);
    if (compare) grid.gap_every = static_cast<int>(in);
    for (std::int64_t i = 0; i < filters; ++i) grid.row_labels.push_back("f" + std::to_string(i));
    const bool label_columns = side_px >= 24;
    for (const auto& s : sides)
      for (std::int64_t i = 0; i < in; ++i)
        grid.column_labels.push_back(label_columns || i % 8 == 0 ? (compare ? s.label : std::string()) + std::to_string(i) : "");
    grid.padding = side_px >= 24 ? 4 : 2;
    grid.font_scale = side_px >= 24 ? 0.4 : 0.3;
    layout = std::string("one row per filter, one column per input channel") +
             (compare ? " (A's channels, then B's)" : "");
  }
  FigureSpec fig;
  fig.title = "layer " + ref.path + " (" + layer.name + "): " + describe_layer(layer) + ", the weights of its " +
              plural(filters, "filter") + " (" + kernel + " over " + plural(in, "input channel") +
              (rgb ? ": RGB, shown as colour images)" : ")");
  fig.info.push_back(layout);
  if (compare) fig.info.push_back("A: " + side_caption(sides, 0) + "   B: " + side_caption(sides, 1));
  fig.body = make_grid(tiles, labels, grid);
  const double lo = weight.min().item<double>(), hi = weight.max().item<double>();
  ColorBarSpec bar;
  bar.colormap = rgb ? "gray" : o.colormap;
  if (mode == MapNormalize::kLayer) {
    bar.low = short_number(lo);
    bar.high = short_number(hi);
    bar.caption = std::string("weights; one scale for the whole layer") + (rgb ? ", per colour channel" : "") +
                  " (--normalize layer)";
  } else {
    bar.low = "filter min";
    bar.high = "filter max";
    bar.caption = "weights; each filter scaled to its own range; all weights in " + range_text(lo, hi) +
                  " (--normalize channel)";
  }
  fig.bar = bar;
  json e = {{"kind", "filters"}, {"layer", ref.path}, {"layer_name", layer.name}, {"layer_type", layer.type},
            {"channel", nullptr},
            {"shape", {{"filters", filters}, {"channels", in}, {"height", kh}, {"width", kw}}}};
  auto st = map_stats(weight.reshape({static_cast<std::int64_t>(sides.size()), -1}));
  if (sides.size() == 1) {
    e.update(stats_json(st, 0));
  } else {
    e["models"] = json::array();
    for (std::size_t i = 0; i < sides.size(); ++i) {
      json m = stats_json(st, i);
      m["model"] = sides[i].label;
      m["source"] = sides[i].source;
      e["models"].push_back(m);
    }
  }
  w.add(dir / "filters.png", render_figure(fig).image, e);
}

}  // namespace

std::string default_featuremap_dir(const std::string& checkpoint_path) {
  if (!checkpoint_path.empty()) {
    fs::path dir = fs::path(checkpoint_path).parent_path();
    std::error_code ec;
    if (!dir.empty() && (fs::exists(dir / "config.json", ec) || fs::exists(dir / "metrics.jsonl", ec)))
      return (dir / "featuremaps").string();
  }
  return "featuremaps";
}

namespace {

void check_comparable(const std::vector<Side>& sides, const std::vector<LayerRef>& refs) {
  if (sides.size() != 2) return;
  for (const auto& ref : refs) {
    LayerRef other = sides[1].model.find_layer(ref.path);
    if (other.layer->output != ref.layer->output || other.layer->type != ref.layer->type) {
      throw UsageError("--compare: layer " + ref.path + " is " + ref.layer->type + " " + ref.layer->output.str() +
                       " in A but " + other.layer->type + " " + other.layer->output.str() +
                       " in B; compare models of the same architecture");
    }
  }
}

struct Captured {
  std::vector<std::map<std::string, torch::Tensor>> maps;  // per side: address -> [N, ...]
  std::vector<torch::Tensor> probabilities;                // per side: softmax of the output [N, K] (CPU), or undefined
};

// The chosen layers' outputs for every input, per side, and each model's class probabilities.
Captured capture_all(std::vector<Side>& sides, const std::vector<Input>& inputs, const std::vector<LayerRef>& refs,
                     c10::Device device) {
  std::vector<torch::Tensor> batch;
  for (const auto& in : inputs) batch.push_back(in.image);
  auto u8 = torch::stack(batch);  // [N, C, H, W]
  std::vector<std::string> addresses;
  for (const auto& ref : refs) addresses.push_back(ref.path);
  Captured c;
  for (auto& s : sides) {
    s.model.net->to(device);
    s.model.net->eval();
    const auto x = normalize_images(u8, normalization_map(s.norm, device));
    c.maps.push_back(capture_layer_outputs(s.model, x, addresses));
    torch::Tensor probs;
    if (s.model.output().is_flat()) {
      torch::NoGradGuard no_grad;
      probs = torch::softmax(s.model.net->forward(x).to(torch::kFloat32), 1).cpu();
    }
    c.probabilities.push_back(probs);
  }
  return c;
}

// The picture's view of input i: the image, its caption, and the lines naming the models and
// what the trained ones predict. Adds "predictions" to the input's manifest entry.
InputView input_view(const Input& in, const torch::Tensor& shown, std::size_t i, const std::vector<Side>& sides,
                     const Captured& cap, json& manifest_entry) {
  InputView v;
  v.shown = shown;
  const std::string truth = in.info.contains("class_name") ? in.info["class_name"].get<std::string>() : "";
  v.caption = "input\n" + (in.info.value("source", "") == "image" ? fs::path(in.source).filename().string() : in.source) +
              (truth.empty() ? "" : "\ntrue class: " + truth);
  json predictions = json::array();
  std::vector<std::string> said;
  for (std::size_t k = 0; k < sides.size(); ++k) {
    const Side& s = sides[k];
    const auto& probs = cap.probabilities[k];
    const std::string who = sides.size() == 2 ? s.label : "";
    if (!s.trained || !probs.defined()) {
      if (sides.size() == 1) said.push_back("untrained model: the weights training starts from (seed " +
                                            std::to_string(training_seed(s.config)) + "); no prediction");
      continue;
    }
    const auto row = probs[static_cast<std::int64_t>(i)];
    const std::int64_t cls = row.argmax().item<std::int64_t>();
    const double p = row[cls].item<double>();
    const std::string name = cls < static_cast<std::int64_t>(s.class_names.size()) ? s.class_names[cls] : std::to_string(cls);
    said.push_back((who.empty() ? "prediction" : who + " predicts") + ": " + name + " (" + percent(p) + ")");
    predictions.push_back({{"model", s.label}, {"class", cls}, {"name", name}, {"probability", p}});
  }
  if (sides.size() == 2) v.info.push_back("A: " + side_caption(sides, 0) + "   B: " + side_caption(sides, 1));
  if (!said.empty()) v.info.push_back(join(said, "   "));
  if (!predictions.empty()) manifest_entry["predictions"] = predictions;
  return v;
}

bool is_output_layer(const LayerRef& ref, const Side& side) {
  return ref.path == std::to_string(side.model.layers.size() - 1) && ref.layer->output.is_flat() &&
         ref.layer->output.numel() == static_cast<std::int64_t>(side.class_names.size());
}

// Queues every PNG (input, feature maps, filters) on the writer; returns the inputs' manifest.
json queue_images(const FeaturemapOptions& o, const std::vector<Side>& sides, const std::vector<Input>& inputs,
                  const std::vector<LayerRef>& refs, const Captured& captured, MapNormalize mode, const fs::path& out,
                  Writer& w) {
  const bool several = inputs.size() > 1;
  json inputs_json = json::array();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const fs::path base = several ? out / ("input_" + std::to_string(i)) : out;
    const auto& img = inputs[i].image;
    const int s = o.scale > 0 ? o.scale : auto_scale(img.size(1), img.size(2), kMapMinSide);
    const fs::path input_png = base / "input.png";
    json e = {{"kind", "input"}, {"input", i}, {"layer", nullptr}, {"layer_name", nullptr}, {"channel", nullptr},
              {"shape", sides[0].model.input.to_json()}};
    const torch::Tensor shown = upscale_nearest(img, s).contiguous();
    w.add(input_png, shown, e);
    json info = inputs[i].info;
    info["input"] = i;
    info["path"] = input_png.string();
    const InputView view = input_view(inputs[i], shown, i, sides, captured, info);
    inputs_json.push_back(info);
    for (const auto& ref : refs) {
      std::vector<torch::Tensor> outs;
      for (const auto& cap : captured.maps) outs.push_back(cap.at(ref.path)[static_cast<std::int64_t>(i)]);
      render_layer(ref, outs, sides, o, mode, base / (ref.path + "_" + safe_name(ref.layer->name)),
                   static_cast<int>(i), view, is_output_layer(ref, sides[0]), w);
    }
  }
  if (o.filters) {
    int with_kernels = 0;
    for (const auto& ref : refs) {
      if (!conv_kernel(*ref.layer).defined()) continue;
      ++with_kernels;
      render_filters(ref, sides, o, mode, out / (ref.path + "_" + safe_name(ref.layer->name)), w);
    }
    if (!with_kernels) spdlog::warn("--filters: none of the chosen layers is a conv2d layer; no filter images written");
  }
  return inputs_json;
}

json manifest_json(const FeaturemapOptions& o, const std::vector<Side>& sides, const std::vector<LayerRef>& refs,
                   c10::Device device, const fs::path& out, json inputs, json files) {
  json models = json::array();
  for (const auto& s : sides) {
    models.push_back({{"model", s.label},
                      {"source", s.source},
                      {"config", s.config.source().file},
                      {"normalization", {{"mean", s.norm.mean}, {"std", s.norm.std}, {"from", s.norm_from}}}});
  }
  json layers = json::array();
  for (const auto& ref : refs)
    layers.push_back({{"layer", ref.path}, {"layer_name", ref.layer->name}, {"layer_type", ref.layer->type},
                      {"shape", ref.layer->output.to_json()}});
  const bool compare = sides.size() == 2;
  return {{"model", sides[0].config.name()},
          {"checkpoint", sides[0].trained && !compare ? json(sides[0].source) : json(nullptr)},
          {"models", models},
          {"device", device.str()},
          {"out", out.string()},
          {"normalize", o.normalize},
          {"colormap", o.colormap},
          {"layers", layers},
          {"inputs", std::move(inputs)},
          {"files", std::move(files)}};
}

}  // namespace

json run_featuremaps(const FeaturemapOptions& o, c10::Device device) {
  const MapNormalize mode = parse_map_normalize(o.normalize);
  const auto& cmaps = colormap_names();
  if (std::find(cmaps.begin(), cmaps.end(), o.colormap) == cmaps.end())
    throw UsageError("--colormap " + o.colormap + ": expected one of " + join(cmaps, ", "));
  if (o.scale < 0) throw UsageError("--scale " + std::to_string(o.scale) + ": must be 0 (auto) or a positive factor");

  std::vector<Side> sides = load_sides(o);
  const int io_threads = at::get_num_threads();  // --threads: used again for writing the PNGs
  // One input's maps are small tensors: intra-op threads would only spin between tiny ops
  // (measured: 65% of the time in OpenMP's spin-wait).
  if (device.is_cpu()) at::set_num_threads(1);
  std::vector<LayerRef> refs = select_layers(sides[0].model, o.layers);
  check_comparable(sides, refs);

  std::string checkpoint_for_dir;
  for (const auto& s : sides)
    if (s.trained) checkpoint_for_dir = s.source;  // B's when comparing with two checkpoints
  const fs::path out = o.out.empty() ? fs::path(default_featuremap_dir(checkpoint_for_dir)) : fs::path(o.out);
  prepare_out_dir(out);

  std::vector<Input> inputs = load_inputs(o, sides);
  const auto captured = capture_all(sides, inputs, refs, device);
  Writer w;
  json inputs_json = queue_images(o, sides, inputs, refs, captured, mode, out, w);
  w.write_all(io_threads);
  json manifest = manifest_json(o, sides, refs, device, out, std::move(inputs_json), w.files());
  spdlog::info("featuremap: {} x {} -> {} under {}", plural(static_cast<std::int64_t>(refs.size()), "layer"),
               plural(static_cast<std::int64_t>(inputs.size()), "input"),
               plural(static_cast<std::int64_t>(manifest["files"].size()), "file"), out.string());
  return manifest;
}

}  // namespace cnnkit
