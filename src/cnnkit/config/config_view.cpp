#include "cnnkit/config/config_view.h"
#include "cnnkit/config/json_pointer.h"

#include <cmath>

#include "cnnkit/core/error.h"
#include "cnnkit/core/json_text.h"
#include "cnnkit/core/strings.h"

namespace cnnkit {

// RFC 6901: "~" -> "~0", "/" -> "~1".
std::string json_pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

namespace {
std::string type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "a value";
  }
}
}  // namespace

ConfigView::ConfigView(const json& node, std::shared_ptr<const ConfigSource> source, std::string pointer)
    : node_(&node), source_(std::move(source)), pointer_(std::move(pointer)) {}

std::string ConfigView::where() const {
  // An overridden value (or anything below it) is reported as coming from its --set option;
  // the most specific override wins (--set layers.0={...} --set layers.0.filters=0).
  const std::string* option = nullptr;
  std::size_t matched = 0;
  for (const auto& [ptr, opt] : source_->overrides) {
    if ((pointer_ == ptr || pointer_.rfind(ptr + "/", 0) == 0) && (!option || ptr.size() >= matched)) {
      option = &opt;
      matched = ptr.size();
    }
  }
  if (option) return *option;
  // Keys (and file names) may hold newlines: the message stays one line.
  return printable_text(source_->file) + ":" + (pointer_.empty() ? "/" : printable_text(pointer_));
}

bool ConfigView::overridden() const {
  for (const auto& [ptr, opt] : source_->overrides)
    if (pointer_ == ptr || pointer_.rfind(ptr + "/", 0) == 0) return true;
  return false;
}

void ConfigView::fail(const std::string& what) const {
  // `what` may quote keys or strings of the file: control characters escaped, one line.
  const std::string message = where() + ": " + printable_text(what);
  if (source_->stored && !overridden()) throw CheckpointError(message);
  throw ConfigError(message);
}

std::string ConfigView::render(const json& value) {
  std::string s = json_text(value);
  if (s.size() > 60) {
    // Cut on a character boundary, so the message stays valid UTF-8.
    std::size_t cut = 57;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s = s.substr(0, cut) + "...";
  }
  return s;
}

bool ConfigView::is_integer() const {
  if (node_->is_number_integer() || node_->is_number_unsigned()) return true;
  if (node_->is_number_float()) {
    double d = node_->get<double>();
    return std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9e15;
  }
  return false;
}

bool ConfigView::has(const std::string& key) const { return node_->is_object() && node_->contains(key); }

std::size_t ConfigView::size() const { return node_->size(); }

ConfigView ConfigView::at(const std::string& key) const {
  require_object();
  auto it = node_->find(key);
  if (it == node_->end()) fail("missing required field '" + key + "'");
  return ConfigView(*it, source_, pointer_ + "/" + json_pointer_token(key));
}

ConfigView ConfigView::at(std::size_t index) const {
  require_array();
  if (index >= node_->size()) fail("index " + std::to_string(index) + " out of range");
  return ConfigView((*node_)[index], source_, pointer_ + "/" + std::to_string(index));
}

std::optional<ConfigView> ConfigView::find(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return ConfigView((*node_)[key], source_, pointer_ + "/" + json_pointer_token(key));
}

std::vector<std::string> ConfigView::keys() const {
  std::vector<std::string> out;
  if (node_->is_object())
    for (auto it = node_->begin(); it != node_->end(); ++it) out.push_back(it.key());
  return out;
}

void ConfigView::require_object() const {
  if (!node_->is_object()) fail("must be an object; got " + type_name(*node_) + " " + render(*node_));
}

void ConfigView::require_array(bool non_empty) const {
  if (!node_->is_array()) fail("must be an array; got " + type_name(*node_) + " " + render(*node_));
  if (non_empty && node_->empty()) fail("must not be empty");
}

std::int64_t ConfigView::as_int(std::int64_t min, std::int64_t max) const {
  if (!is_integer()) fail("must be an integer; got " + render(*node_));
  if (node_->is_number_unsigned() && node_->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    fail("must be at most " + std::to_string(max) + "; got " + render(*node_));
  }
  std::int64_t v = node_->is_number_float() ? static_cast<std::int64_t>(node_->get<double>())
                                            : node_->get<std::int64_t>();
  if (v < min || v > max) {
    std::string range;
    if (min != INT64_MIN && max != INT64_MAX)
      range = "between " + std::to_string(min) + " and " + std::to_string(max);
    else if (min == 1)
      range = "positive";
    else if (min == 0)
      range = "zero or more";
    else if (min != INT64_MIN)
      range = "at least " + std::to_string(min);
    else
      range = "at most " + std::to_string(max);
    fail("must be " + range + "; got " + render(*node_));
  }
  return v;
}

double ConfigView::as_double() const {
  if (!node_->is_number()) fail("must be a number; got " + render(*node_));
  double d = node_->get<double>();
  if (!std::isfinite(d)) fail("must be a finite number; got " + render(*node_));
  return d;
}

double ConfigView::as_double_in(double min, double max, bool min_inclusive, bool max_inclusive) const {
  double d = as_double();
  bool ok = (min_inclusive ? d >= min : d > min) && (max_inclusive ? d <= max : d < max);
  if (!ok) {
    auto num = [](double x) {
      std::string s = json_text(json(x));
      return s;
    };
    fail("must be in " + std::string(min_inclusive ? "[" : "(") + num(min) + ", " + num(max) +
         (max_inclusive ? "]" : ")") + "; got " + render(*node_));
  }
  return d;
}

bool ConfigView::as_bool() const {
  if (!node_->is_boolean()) fail("must be true or false; got " + render(*node_));
  return node_->get<bool>();
}

std::string ConfigView::as_string() const {
  if (!node_->is_string()) fail("must be a string; got " + render(*node_));
  return node_->get<std::string>();
}

std::string ConfigView::as_choice(const std::vector<std::string>& choices) const {
  if (!node_->is_string()) fail("must be one of " + join(choices, ", ") + "; got " + render(*node_));
  std::string s = node_->get<std::string>();
  for (const auto& c : choices)
    if (c == s) return s;
  fail("must be one of " + join(choices, ", ") + "; got " + render(*node_) + did_you_mean(s, choices));
}

std::vector<double> ConfigView::as_double_list(std::size_t expected_size) const {
  if (!node_->is_array() || (expected_size && node_->size() != expected_size)) {
    fail("must be an array of " + (expected_size ? std::to_string(expected_size) + " " : std::string()) +
         "numbers; got " + render(*node_));
  }
  std::vector<double> out;
  for (std::size_t i = 0; i < node_->size(); ++i) out.push_back(at(i).as_double());
  return out;
}

std::int64_t ConfigView::get_int(const std::string& key, std::int64_t def, std::int64_t min,
                                 std::int64_t max) const {
  auto v = find(key);
  return v ? v->as_int(min, max) : def;
}

double ConfigView::get_double(const std::string& key, double def) const {
  auto v = find(key);
  return v ? v->as_double() : def;
}

bool ConfigView::get_bool(const std::string& key, bool def) const {
  auto v = find(key);
  return v ? v->as_bool() : def;
}

std::string ConfigView::get_string(const std::string& key, const std::string& def) const {
  auto v = find(key);
  return v ? v->as_string() : def;
}

std::string ConfigView::get_choice(const std::string& key, const std::string& def,
                                   const std::vector<std::string>& choices) const {
  auto v = find(key);
  return v ? v->as_choice(choices) : def;
}

void ConfigView::check_keys(const std::vector<std::string>& valid) const {
  require_object();
  for (auto it = node_->begin(); it != node_->end(); ++it) {
    if (std::find(valid.begin(), valid.end(), it.key()) == valid.end()) {
      ConfigView child(*it, source_, pointer_ + "/" + json_pointer_token(it.key()));
      child.fail("unknown key '" + it.key() + "'" + did_you_mean(it.key(), valid) +
                 "; valid keys: " + join(valid, ", "));
    }
  }
}

}  // namespace cnnkit
