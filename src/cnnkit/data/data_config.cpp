#include "cnnkit/data/data_config.h"

#include "cnnkit/core/error.h"
#include "cnnkit/data/source.h"

namespace cnnkit {
namespace {

const std::vector<std::string> kCommonKeys = {"source",    "root",    "validation_split", "split_seed",
                                              "normalize", "augment", "limit_train",      "limit_test"};

std::string quoted_list(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) out += (i ? ", \"" : "\"") + names[i] + "\"";
  return out;
}

InputShape input_shape(const ConfigView& root) {
  // The "input" section resolves first (order 10), so it is present and valid here.
  ConfigView in = root.at("input");
  return {in.at("channels").as_int(1), in.at("height").as_int(1), in.at("width").as_int(1)};
}

// A flag that may be written as true/false or as an options object: returns nullopt for false.
std::optional<ConfigView> enabled_options(const std::optional<ConfigView>& v, bool& enabled) {
  enabled = false;
  if (!v) return std::nullopt;
  if (v->json_value().is_boolean()) {
    enabled = v->as_bool();
    return std::nullopt;
  }
  if (!v->is_object()) v->fail("must be true, false or an options object; got " + ConfigView::render(v->json_value()));
  enabled = true;
  return v;
}

std::pair<double, double> range_pair(const ConfigView& v, double lo, double hi, bool lo_inclusive) {
  auto r = v.as_double_list(2);
  for (std::size_t i = 0; i < 2; ++i) v.at(i).as_double_in(lo, hi, lo_inclusive, true);
  if (r[0] > r[1]) v.fail("must be [min, max] with min <= max; got " + ConfigView::render(v.json_value()));
  return {r[0], r[1]};
}

json resolve_augment(const std::optional<ConfigView>& v, const InputShape& in) {
  json out = {{"random_crop", false}, {"horizontal_flip", false}, {"cutout", false}, {"random_erasing", false}};
  if (!v) return out;
  v->check_keys({"random_crop", "horizontal_flip", "cutout", "random_erasing"});
  bool on = false;
  if (auto c = enabled_options(v->find("random_crop"), on); on) {
    const RandomCropOptions defaults;
    std::int64_t padding = defaults.padding;
    std::string fill = defaults.fill;
    if (c) {
      c->check_keys({"padding", "fill"});
      padding = c->get_int("padding", defaults.padding, 1, 4096);
      fill = c->get_choice("fill", defaults.fill, {"zero", "reflect"});
      if (fill == "reflect" && (padding >= in.height || padding >= in.width)) {
        c->at("padding").fail("reflect padding must be smaller than the input (" + std::to_string(in.height) + "×" +
                              std::to_string(in.width) + "); got " + std::to_string(padding));
      }
    }
    out["random_crop"] = {{"padding", padding}, {"fill", fill}};
  }
  out["horizontal_flip"] = v->get_bool("horizontal_flip", false);
  if (auto c = enabled_options(v->find("cutout"), on); on) {
    std::int64_t size = std::max<std::int64_t>(1, std::min(in.height, in.width) / 4);
    double p = CutoutOptions{}.probability;
    if (c) {
      c->check_keys({"size", "probability"});
      size = c->get_int("size", size, 1, std::max(in.height, in.width));
      if (auto pv = c->find("probability")) p = pv->as_double_in(0, 1);
    }
    out["cutout"] = {{"size", size}, {"probability", p}};
  }
  if (auto c = enabled_options(v->find("random_erasing"), on); on) {
    const RandomErasingOptions d;
    json e = {{"probability", d.probability},
              {"scale", {d.scale_min, d.scale_max}},
              {"ratio", {d.ratio_min, d.ratio_max}},
              {"value", d.value}};
    if (c) {
      c->check_keys({"probability", "scale", "ratio", "value"});
      if (auto pv = c->find("probability")) e["probability"] = pv->as_double_in(0, 1);
      if (auto s = c->find("scale")) {
        auto [a, b] = range_pair(*s, 0, 1, false);
        e["scale"] = {a, b};
      }
      if (auto r = c->find("ratio")) {
        auto [a, b] = range_pair(*r, 0, 1e6, false);
        e["ratio"] = {a, b};
      }
      if (auto val = c->find("value")) {
        if (val->is_string()) e["value"] = val->as_choice({"random"});
        else if (val->is_number()) e["value"] = val->as_double();
        else val->fail("must be a number or \"random\"; got " + ConfigView::render(val->json_value()));
      }
    }
    out["random_erasing"] = e;
  }
  return out;
}

json resolve_normalize(const std::optional<ConfigView>& v, const InputShape& in) {
  if (!v) return "auto";
  if (v->is_string()) return v->as_choice({"auto", "none"});
  if (!v->is_object()) v->fail("must be \"auto\", \"none\" or {\"mean\": [...], \"std\": [...]}; got " +
                               ConfigView::render(v->json_value()));
  v->check_keys({"mean", "std"});
  json out;
  for (const char* key : {"mean", "std"}) {
    ConfigView list = v->at(key);
    auto values = list.as_double_list(static_cast<std::size_t>(in.channels));
    for (std::size_t i = 0; i < values.size(); ++i) {
      ConfigView item = list.at(i);
      if (values[i] > 1.0) {
        item.fail("statistics are on [0, 1] pixel values; got " + ConfigView::render(item.json_value()) +
                  " (0-255 values? divide them by 255)");
      }
      if (std::string(key) == "std") item.as_double_in(0, 1, false, true);
      else item.as_double_in(0, 1);
    }
    out[key] = values;
  }
  return out;
}

// Keys of other sources than `source` that `key` belongs to.
std::vector<std::string> sources_taking(const std::string& key, const std::string& source) {
  std::vector<std::string> out;
  for (const auto& [name, src] : data_source_registry().members()) {
    auto keys = src->keys();
    if (name != source && std::find(keys.begin(), keys.end(), key) != keys.end()) out.push_back(name);
  }
  return out;
}

json resolve_data(const std::optional<ConfigView>& v, const ConfigView& root) {
  if (!v) return nullptr;  // no data section: summary works, train/data commands say it is missing
  v->require_object();
  const std::string source = v->at("source").as_choice(data_source_registry().names());
  const DataSource& src = data_source_registry().get(source);
  std::vector<std::string> valid = kCommonKeys;
  for (const auto& k : src.keys()) valid.push_back(k);
  for (const auto& key : v->keys()) {
    if (std::find(valid.begin(), valid.end(), key) != valid.end()) continue;
    auto others = sources_taking(key, source);
    if (others.empty()) continue;  // unknown everywhere: check_keys lists the valid ones
    v->at(key).fail("'" + key + "' applies only to source " + quoted_list(others) + "; this source is \"" + source +
                    "\"");
  }
  v->check_keys(valid);
  const InputShape in = input_shape(root);

  json out;
  out["source"] = source;
  out["root"] = src.default_root().empty() ? v->at("root").as_string() : v->get_string("root", src.default_root());
  if (out["root"].get<std::string>().empty()) v->at("root").fail("must not be empty");
  src.resolve(*v, in, out);
  out["validation_split"] = v->find("validation_split") ? v->at("validation_split").as_double_in(0, 1, true, false) : 0.0;
  out["split_seed"] = v->get_int("split_seed", kDefaultSplitSeed, 0);
  out["normalize"] = resolve_normalize(v->find("normalize"), in);
  out["augment"] = resolve_augment(v->find("augment"), in);
  out["limit_train"] = v->get_int("limit_train", 0, 0);
  out["limit_test"] = v->get_int("limit_test", 0, 0);
  return out;
}

struct DataSection {
  DataSection() { register_config_section("data", 20, resolve_data); }
};
static DataSection section;

}  // namespace

AugmentOptions augment_options_from_json(const json& a) {
  AugmentOptions o;
  if (a.is_null()) return o;
  if (a.value("random_crop", json(false)).is_object()) {
    const json& c = a["random_crop"];
    o.random_crop = RandomCropOptions{c.at("padding").get<std::int64_t>(), c.at("fill").get<std::string>()};
  }
  o.horizontal_flip = a.value("horizontal_flip", false);
  if (a.value("cutout", json(false)).is_object()) {
    const json& c = a["cutout"];
    o.cutout = CutoutOptions{c.at("size").get<std::int64_t>(), c.at("probability").get<double>()};
  }
  if (a.value("random_erasing", json(false)).is_object()) {
    const json& e = a["random_erasing"];
    RandomErasingOptions r;
    r.probability = e.at("probability").get<double>();
    r.scale_min = e.at("scale").at(0).get<double>();
    r.scale_max = e.at("scale").at(1).get<double>();
    r.ratio_min = e.at("ratio").at(0).get<double>();
    r.ratio_max = e.at("ratio").at(1).get<double>();
    r.random_value = e.at("value").is_string();
    r.value = r.random_value ? 0.0 : e.at("value").get<double>();
    o.random_erasing = r;
  }
  return o;
}

DataConfig data_config_from_json(const json& s) {
  DataConfig d;
  d.source = s.at("source").get<std::string>();
  d.root = s.at("root").get<std::string>();
  d.validation_split = s.value("validation_split", 0.0);
  d.split_seed = s.value("split_seed", kDefaultSplitSeed);
  const json norm = s.value("normalize", json("auto"));
  if (norm.is_string()) {
    d.normalize_mode = norm.get<std::string>();
  } else {
    d.normalize_mode = "fixed";
    d.mean = norm.at("mean").get<std::vector<double>>();
    d.std = norm.at("std").get<std::vector<double>>();
  }
  d.augment = augment_options_from_json(s.value("augment", json()));
  d.limit_train = s.value("limit_train", std::int64_t{0});
  d.limit_test = s.value("limit_test", std::int64_t{0});
  d.section = s;
  return d;
}

DataConfig data_config_from(const Config& config) {
  if (!config.has_section("data")) {
    throw ConfigError(config.source().file + ": no \"data\" section: say which dataset to use, e.g. "
                      "\"data\": {\"source\": \"mnist\", \"root\": \"data/mnist\"} (see docs/data.md)");
  }
  return data_config_from_json(config.resolved().at("data"));
}

}  // namespace cnnkit
