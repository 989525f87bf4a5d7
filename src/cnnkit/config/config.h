// Loading a config: read the file, parse JSON (errors with line and column), apply --set
// overrides, then let each registered section validate itself and fill in its defaults.
// The result is the fully *resolved* config: what --print-config shows and what a checkpoint
// stores, so a model can be rebuilt from the checkpoint alone.
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cnnkit/config/config_view.h"

namespace cnnkit {

// Validates one top-level section and returns it with every default filled in.
// `section` is nullopt when the config omits it; return a null json to leave it out.
using SectionResolver = std::function<json(const std::optional<ConfigView>& section, const ConfigView& root)>;

// Modules register their sections from a static object (see model/model_config.cpp).
// `order` decides resolution order (lower first). A key registered twice is refused.
void register_config_section(const std::string& key, int order, SectionResolver resolver);
std::vector<std::string> config_section_keys();

class Config {
 public:
  Config() = default;
  Config(json resolved, std::shared_ptr<const ConfigSource> source);

  const json& resolved() const { return resolved_; }
  const std::string& name() const;
  const ConfigSource& source() const { return *source_; }
  ConfigView view() const;
  // A view of a top-level section (must exist in the resolved config).
  ConfigView section(const std::string& key) const;
  bool has_section(const std::string& key) const;

 private:
  json resolved_;
  std::shared_ptr<const ConfigSource> source_;
};

// Deepest nesting of arrays and objects accepted in a config (and in a --set value): far more
// than any model needs (a residual block inside a residual block costs 2 levels), and few
// enough that no recursive walk over a document can exhaust the stack.
constexpr int kMaxJsonDepth = 64;
// Most '.'-separated names in a --set path.
constexpr std::size_t kMaxOverrideDepth = 32;

// Parses JSON text (comments allowed); malformed input throws ConfigError
// "file:LINE:COL: malformed JSON: ...", nesting deeper than kMaxJsonDepth
// "file:LINE:COL: JSON nested deeper than 64 levels", and a number beyond the range of a
// double (1e999) "file:/pointer: number out of range ...".
json parse_json_text(const std::string& text, const std::string& file);

// Applies "a.b.0.c=VALUE" to `doc`. VALUE is read as JSON when it parses, else as a string.
// Records the override's pointer in `source` so later errors name the option.
void apply_override(json& doc, const std::string& assignment, ConfigSource& source);

// Resolves a raw config document (after overrides).
Config resolve_config(const json& raw, std::shared_ptr<ConfigSource> source);

// A resolved config (e.g. a checkpoint's) with more --set overrides applied and re-resolved.
Config with_overrides(const Config& base, const std::vector<std::string>& overrides);

// Reads, overrides and resolves a config file. Missing file, directory, malformed JSON and
// every validation failure throw ConfigError (exit 2).
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});

}  // namespace cnnkit
