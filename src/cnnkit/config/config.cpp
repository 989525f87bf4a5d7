#include "cnnkit/config/config.h"
#include "cnnkit/config/json_pointer.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "cnnkit/core/atomic_file.h"
#include "cnnkit/core/error.h"
#include "cnnkit/core/json_text.h"
#include "cnnkit/core/strings.h"

namespace cnnkit {
namespace {

struct SectionEntry {
  int order;
  SectionResolver resolver;
};

std::map<std::string, SectionEntry>& sections() {
  static std::map<std::string, SectionEntry> s;
  return s;
}

// Keys the config module owns itself.
const std::vector<std::string> kOwnKeys = {"name", "description"};

// The byte offset at which arrays and objects first nest deeper than kMaxJsonDepth, or npos.
// Skips strings and comments; on malformed text the parser reports the real problem.
std::size_t too_deep_at(const std::string& text) {
  int depth = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\') ++i;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      auto end = text.find("*/", i + 2);
      i = end == std::string::npos ? text.size() : end + 1;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string::npos;
}

std::string line_col(const std::string& text, std::size_t pos) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < std::min(pos, text.size()); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}


// Where the first number beyond the range of a double (1e999) sits in JSON text: its byte
// offset and JSON pointer. nlohmann refuses such numbers with out_of_range.406 but says neither
// where nor in which value, so this walks the text's structure (strings, comments, keys, array
// indices) the way the parser would.
struct TextPlace {
  std::size_t offset;
  std::string pointer;
};

std::optional<TextPlace> overflowing_number(const std::string& text) {
  struct Frame {
    bool array;
    std::size_t index = 0;
    std::string key;
    bool expect_key = true;
  };
  std::vector<Frame> stack;
  auto pointer = [&] {
    std::string p;
    for (const auto& f : stack) p += "/" + (f.array ? std::to_string(f.index) : json_pointer_token(f.key));
    return p.empty() ? std::string("/") : p;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      std::string str;
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        str += text[i];
      }
      if (!stack.empty() && !stack.back().array && stack.back().expect_key) stack.back().key = str;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      auto end = text.find("*/", i + 2);
      i = end == std::string::npos ? text.size() : end + 1;
    } else if (c == '{' || c == '[') {
      stack.push_back(Frame{c == '['});
    } else if ((c == '}' || c == ']') && !stack.empty()) {
      stack.pop_back();
    } else if (c == ':' && !stack.empty()) {
      stack.back().expect_key = false;
    } else if (c == ',' && !stack.empty()) {
      if (stack.back().array) ++stack.back().index;
      else stack.back().expect_key = true;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      std::size_t end = i;
      while (end < text.size() && std::string("0123456789+-.eE").find(text[end]) != std::string::npos) ++end;
      const double v = std::strtod(text.substr(i, end - i).c_str(), nullptr);
      if (std::isinf(v)) return TextPlace{i, pointer()};
      i = end - 1;
    }
  }
  return std::nullopt;
}

const char* kOutOfRange = "number out of range (beyond the ±1.8e308 of a double)";

}  // namespace

void register_config_section(const std::string& key, int order, SectionResolver resolver) {
  if (sections().count(key)) throw std::logic_error("cnnkit: duplicate registration of config section '" + key + "'");
  sections()[key] = SectionEntry{order, std::move(resolver)};
}

std::vector<std::string> config_section_keys() {
  std::vector<std::string> keys = kOwnKeys;
  for (const auto& [k, _] : sections()) keys.push_back(k);
  return keys;
}

Config::Config(json resolved, std::shared_ptr<const ConfigSource> source)
    : resolved_(std::move(resolved)), source_(std::move(source)) {}

const std::string& Config::name() const { return resolved_.at("name").get_ref<const std::string&>(); }

ConfigView Config::view() const { return ConfigView(resolved_, source_, ""); }

ConfigView Config::section(const std::string& key) const { return view().at(key); }

bool Config::has_section(const std::string& key) const {
  return resolved_.contains(key) && !resolved_.at(key).is_null();
}

json parse_json_text(const std::string& text, const std::string& file) {
  if (auto at = too_deep_at(text); at != std::string::npos) {
    throw ConfigError(file + ":" + line_col(text, at) + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                      " levels");
  }
  json doc;
  try {
    doc = json::parse(text, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::out_of_range&) {  // a number beyond a double: 1e999
    const auto place = overflowing_number(text);
    throw ConfigError(file + ":" + (place ? place->pointer : line_col(text, text.size())) + ": " + kOutOfRange);
  } catch (const json::parse_error& e) {
    // Turn the byte offset into line and column.
    const std::size_t pos = std::min<std::size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    std::string detail = e.what();
    // nlohmann's message: "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..."
    auto colon = detail.find(": ", detail.find("parse error"));
    if (colon != std::string::npos) detail = detail.substr(colon + 2);
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) detail = "the file is empty";
    throw ConfigError(file + ":" + line_col(text, pos) + ": malformed JSON: " + detail);
  }
  return doc;
}

namespace {

void apply_override_unchecked(json& doc, const std::string& assignment, ConfigSource& source);

}  // namespace

void apply_override(json& doc, const std::string& assignment, ConfigSource& source) {
  try {
    apply_override_unchecked(doc, assignment, source);
  } catch (const ConfigError& e) {
    throw ConfigError(printable_text(e.what()));  // names and paths from the option: one line
  }
}

namespace {

void apply_override_unchecked(json& doc, const std::string& assignment, ConfigSource& source) {
  const std::string option = "--set " + printable_text(assignment);  // names it in errors: one line
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ConfigError(option + ": expected PATH=VALUE, e.g. training.epochs=5");
  }
  std::string path = assignment.substr(0, eq);
  std::string text = assignment.substr(eq + 1);
  if (too_deep_at(text) != std::string::npos) {
    throw ConfigError(option + ": value nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  }
  json value;
  try {
    value = json::parse(text);
  } catch (const json::out_of_range&) {  // a number beyond a double: 1e999
    const auto place = overflowing_number(text);
    throw ConfigError(option + ": " + kOutOfRange + (place && place->pointer != "/" ? " at " + place->pointer : ""));
  } catch (const json::parse_error&) {
    value = text;  // bare words are strings: --set data.source=cifar10 (any bytes: paths need not be UTF-8)
  }
  json* node = &doc;
  std::string pointer;
  std::string created;  // the first key this option adds, if any: it owns everything below
  auto parts = split(path, '.');
  if (parts.size() > kMaxOverrideDepth) {
    throw ConfigError(option + ": path has " + std::to_string(parts.size()) + " names; at most " +
                      std::to_string(kMaxOverrideDepth) + " are accepted");
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& key = parts[i];
    bool last = i + 1 == parts.size();
    if (key.empty()) throw ConfigError(option + ": empty name in path '" + path + "'");
    if (node->is_array()) {
      if (key.find_first_not_of("0123456789") != std::string::npos || key.size() > 9) {
        throw ConfigError(option + ": " + (pointer.empty() ? "/" : pointer) + " is a list; expected an index, got '" + key + "'");
      }
      std::size_t index = std::stoul(key);
      if (index >= node->size()) {
        throw ConfigError(option + ": index " + key + " out of range for " + pointer + " (" +
                          std::to_string(node->size()) + " entries)");
      }
      node = &(*node)[index];
    } else {
      if (node->is_null()) *node = json::object();
      if (!node->is_object()) {
        throw ConfigError(option + ": " + (pointer.empty() ? "/" : pointer) + " is " + ConfigView::render(*node) +
                          ", not an object; cannot set '" + key + "' in it");
      }
      if (i == 0 && !node->contains(key)) {
        auto valid = config_section_keys();
        if (std::find(valid.begin(), valid.end(), key) == valid.end()) {
          throw ConfigError(option + ": unknown section '" + key + "'" + did_you_mean(key, valid) +
                            "; valid sections: " + join(valid, ", "));
        }
      }
      if (created.empty() && !node->contains(key)) created = pointer + "/" + key;
      node = &(*node)[key];
    }
    pointer += "/" + key;
    if (last) *node = value;
  }
  // Record where the option's value starts: the leaf, or the first key it created, so that an
  // error about a key the file never had (e.g. "unknown key") names the option, not the file.
  // A later option replaces what earlier ones set at or below the same place.
  const std::string owned = created.empty() ? pointer : created;
  for (auto it = source.overrides.begin(); it != source.overrides.end();) {
    if (it->first == owned || it->first.rfind(owned + "/", 0) == 0) it = source.overrides.erase(it);
    else ++it;
  }
  source.overrides[owned] = option;
}

}  // namespace

Config resolve_config(const json& raw, std::shared_ptr<ConfigSource> source) {
  ConfigView root(raw, source, "");
  root.require_object();
  root.check_keys(config_section_keys());

  json resolved = json::object();
  std::string name = root.get_string("name", "");
  if (name.empty()) {
    name = std::filesystem::path(source->file).stem().string();
    if (name.empty()) name = "model";
  }
  resolved["name"] = name;
  if (root.has("description")) resolved["description"] = root.at("description").as_string();

  std::vector<std::pair<int, std::string>> order;
  for (const auto& [k, entry] : sections()) order.push_back({entry.order, k});
  std::sort(order.begin(), order.end());
  for (const auto& [_, key] : order) {
    json section = sections()[key].resolver(root.find(key), root);
    if (!section.is_null()) resolved[key] = std::move(section);
  }
  return Config(std::move(resolved), std::move(source));
}

Config with_overrides(const Config& base, const std::vector<std::string>& overrides) {
  if (overrides.empty()) return base;
  json raw = base.resolved();
  auto source = std::make_shared<ConfigSource>(base.source());
  for (const auto& o : overrides) apply_override(raw, o, *source);
  return resolve_config(raw, source);
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::string text = read_text_file(path, "config file");
  json raw = parse_json_text(text, path);
  auto source = std::make_shared<ConfigSource>();
  source->file = path;
  for (const auto& o : overrides) apply_override(raw, o, *source);
  return resolve_config(raw, source);
}

}  // namespace cnnkit
