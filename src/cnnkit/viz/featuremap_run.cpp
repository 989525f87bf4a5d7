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
#include "cnnkit/data/dataset.h"
#include "cnnkit/data/normalization.h"
#include "cnnkit/eval/trained_model.h"
#include "cnnkit/io/image_io.h"
#include "cnnkit/model/checkpoint.h"
#include "cnnkit/train/training_config.h"
#include "cnnkit/viz/feature_maps.h"
#include "cnnkit/viz/filters.h"

namespace cnnkit {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kMapMinSide = 128;    // auto scale: maps at least this many pixels on their long side
constexpr int kStripMinWidth = 512; // auto scale: strips at least this wide
constexpr int kStripMinCell = 8;
constexpr int kKernelMinSide = 24;

// One model being looked at: a trained checkpoint, or the untrained model of a config.
struct Side {
  std::string label;   // "A" / "B" when comparing, else "model"
  std::string source;  // checkpoint path, or "untrained"
  bool trained = false;
  Config config;
  Model model;
  Normalization norm;
  std::string norm_from;
};

std::uint64_t training_seed(const Config& config) { return TrainingConfig::from(config).seed; }

Side checkpoint_side(const std::string& spec, const std::optional<Config>& user, const std::vector<std::string>& sets) {
  TrainedModel t = load_trained_model(spec, "best.pt", user, user ? std::vector<std::string>{} : sets);
  Side s;
  s.source = t.checkpoint.path;
  s.trained = true;
  s.config = t.config;
  s.model = std::move(t.model);
  s.norm = t.normalization;
  s.norm_from = "checkpoint";
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

std::vector<Input> load_inputs(const FeaturemapOptions& o, const std::vector<Side>& sides) {
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
  Datasets data = load_datasets(data_config, load);
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

// One layer's output for one input, for every side: rendered, and added to the writer.
void render_layer(const LayerRef& ref, const std::vector<torch::Tensor>& outs, const std::vector<Side>& sides,
                  const FeaturemapOptions& o, MapNormalize mode, const fs::path& dir, int input_index, Writer& w) {
  const bool compare = sides.size() == 2;
  const BuiltLayer& layer = *ref.layer;
  const Shape& shape = layer.output;
  std::string title = ref.path + " " + layer.name + " (" + layer.type + ") " + ascii_shape(shape);
  if (compare) title += "   A: " + short_source(sides[0]) + "   B: " + short_source(sides[1]);
  json base = {{"layer", ref.path}, {"layer_name", layer.name}, {"layer_type", layer.type},
               {"shape", shape.dims}, {"input", input_index}};
  // Statistics per side: per channel (spatial) and over the whole layer.
  std::vector<MapStats> channel_stats, layer_stats;
  for (const auto& t : outs) {
    layer_stats.push_back(map_stats(t.reshape({1, -1})));
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

  torch::Tensor maps;  // [K, C, H, W]
  int scale;
  if (shape.is_spatial()) {
    maps = torch::stack(outs);
    scale = o.scale > 0 ? o.scale : auto_scale(shape.height(), shape.width(), kMapMinSide);
  } else {
    maps = flat_to_strip(torch::stack(outs).reshape({static_cast<std::int64_t>(outs.size()), -1}));
    const auto cols = maps.size(3);
    scale = o.scale > 0 ? o.scale
                        : std::max<int>(kStripMinCell, static_cast<int>((kStripMinWidth + cols - 1) / cols));
  }
  // [K, C, 3|1, H*s, W*s] on the CPU
  auto images = upscale_nearest(colorize(maps_to_uint8(maps, mode), o.colormap), scale).cpu();
  const std::int64_t k = images.size(0), c = images.size(1);
  GridOptions grid;
  grid.scale = 1;
  grid.title = title;

  if (!shape.is_spatial()) {
    std::vector<std::string> labels;
    if (compare) labels = {"A", "B"};
    grid.columns = 1;
    auto strip = make_grid(images.select(1, 0), labels, grid);
    json e = base;
    e["kind"] = compare ? "compare" : "grid";
    e["channel"] = nullptr;
    w.add(dir / (compare ? "compare.png" : "grid.png"), strip, with_stats(e, layer_stats, 0));
    return;
  }
  for (std::int64_t ch = 0; ch < c; ++ch) {
    torch::Tensor img = images[0][ch];
    if (compare) {  // A | gap | B
      auto gap = torch::full({img.size(0), img.size(1), 4}, grid.background, img.options());
      img = torch::cat({images[0][ch], gap, images[1][ch]}, 2);
    }
    json e = base;
    e["kind"] = compare ? "compare" : "channel";
    e["channel"] = ch;
    w.add(dir / channel_file(ch), img.contiguous(), with_stats(e, channel_stats, static_cast<std::size_t>(ch)));
  }
  std::vector<std::string> labels;
  torch::Tensor tiles;
  if (compare) {  // A c0, B c0, A c1, B c1, ... pairs stay on one row
    tiles = images.transpose(0, 1).reshape({k * c, images.size(2), images.size(3), images.size(4)});
    for (std::int64_t ch = 0; ch < c; ++ch)
      for (const auto& s : sides) labels.push_back(s.label + " c" + std::to_string(ch));
    grid.columns = 2 * static_cast<int>(std::ceil(std::sqrt(static_cast<double>(c))));
  } else {
    tiles = images[0];
    for (std::int64_t ch = 0; ch < c; ++ch) labels.push_back("c" + std::to_string(ch));
  }
  json e = base;
  e["kind"] = compare ? "compare" : "grid";
  e["channel"] = nullptr;
  w.add(dir / (compare ? "compare.png" : "grid.png"), make_grid(tiles, labels, grid), with_stats(e, layer_stats, 0));
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
  auto weight = torch::cat(kernels, 0);
  const bool rgb = weight.size(1) == 3 && layer.input.is_spatial() && layer.input.channels() == 3 &&
                   sides[0].model.input.channels() == 3;
  const int scale = o.scale > 0 ? o.scale : auto_scale(weight.size(2), weight.size(3), kKernelMinSide);
  FilterImages f = filter_images(weight, rgb, mode, o.colormap, scale, static_cast<int>(sides.size()));
  GridOptions grid;
  grid.scale = 1;
  grid.columns = f.columns;
  if (rgb && sides.size() == 2) grid.columns = static_cast<int>(kernels[0].size(0));  // row A, row B
  grid.title = ref.path + " " + layer.name + " kernels " + std::to_string(kernels[0].size(0)) + "x" +
               std::to_string(weight.size(1)) + "x" + std::to_string(weight.size(2)) + "x" + std::to_string(weight.size(3)) +
               (rgb ? " (RGB)" : " (rows: filters, columns: input channels)") +
               (sides.size() == 2 ? "   A: " + short_source(sides[0]) + " then B: " + short_source(sides[1]) : "");
  json e = {{"kind", "filters"}, {"layer", ref.path}, {"layer_name", layer.name}, {"layer_type", layer.type},
            {"channel", nullptr}, {"shape", kernels[0].sizes().vec()}};
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
  w.add(dir / "filters.png", make_grid(f.images.cpu(), f.labels, grid), e);
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
      throw UsageError("--compare: layer " + ref.path + " is " + ref.layer->type + " " +
                       ascii_shape(ref.layer->output) + " in A but " + other.layer->type + " " +
                       ascii_shape(other.layer->output) + " in B; compare models of the same architecture");
    }
  }
}

// The chosen layers' outputs for every input, per side.
std::vector<std::map<std::string, torch::Tensor>> capture_all(std::vector<Side>& sides,
                                                              const std::vector<Input>& inputs,
                                                              const std::vector<LayerRef>& refs, c10::Device device) {
  std::vector<torch::Tensor> batch;
  for (const auto& in : inputs) batch.push_back(in.image);
  auto u8 = torch::stack(batch);  // [N, C, H, W]
  std::vector<std::string> addresses;
  for (const auto& ref : refs) addresses.push_back(ref.path);
  std::vector<std::map<std::string, torch::Tensor>> captured;
  for (auto& s : sides) {
    s.model.net->to(device);
    s.model.net->eval();
    captured.push_back(
        capture_layer_outputs(s.model, normalize_images(u8, normalization_map(s.norm, device)), addresses));
  }
  return captured;
}

// Queues every PNG (input, feature maps, filters) on the writer; returns the inputs' manifest.
json queue_images(const FeaturemapOptions& o, const std::vector<Side>& sides, const std::vector<Input>& inputs,
                  const std::vector<LayerRef>& refs, const std::vector<std::map<std::string, torch::Tensor>>& captured,
                  MapNormalize mode, const fs::path& out, Writer& w) {
  const bool several = inputs.size() > 1;
  json inputs_json = json::array();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const fs::path base = several ? out / ("input_" + std::to_string(i)) : out;
    const auto& img = inputs[i].image;
    const int s = o.scale > 0 ? o.scale : auto_scale(img.size(1), img.size(2), kMapMinSide);
    const fs::path input_png = base / "input.png";
    json e = {{"kind", "input"}, {"input", i}, {"layer", nullptr}, {"layer_name", nullptr}, {"channel", nullptr},
              {"shape", sides[0].model.input.dims}};
    w.add(input_png, upscale_nearest(img, s).contiguous(), e);
    json info = inputs[i].info;
    info["input"] = i;
    info["path"] = input_png.string();
    inputs_json.push_back(info);
    for (const auto& ref : refs) {
      std::vector<torch::Tensor> outs;
      for (const auto& cap : captured) outs.push_back(cap.at(ref.path)[static_cast<std::int64_t>(i)]);
      render_layer(ref, outs, sides, o, mode, base / (ref.path + "_" + safe_name(ref.layer->name)),
                   static_cast<int>(i), w);
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
                      {"shape", ref.layer->output.dims}});
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
  spdlog::info("featuremap: {} layer{} x {} input{} -> {} files under {}", refs.size(), refs.size() == 1 ? "" : "s",
               inputs.size(), inputs.size() == 1 ? "" : "s", manifest["files"].size(), out.string());
  return manifest;
}

}  // namespace cnnkit
