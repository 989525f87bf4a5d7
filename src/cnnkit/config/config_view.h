// ConfigView: a read-only view of one node of a JSON config that knows where it came from
// (file and JSON pointer), so every validation error names the place:
//   configs/x.json:/layers/2/kernel_size: must be a positive integer or [h, w]; got -3
// Values set with --set are reported as coming from that option instead of the file.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cnnkit {

using json = nlohmann::json;

// Where a config document came from: the file name and which pointers --set overrode.
struct ConfigSource {
  std::string file;                              // as the user wrote it
  std::map<std::string, std::string> overrides;  // JSON pointer -> "--set a.b=v"
  // The config stored inside a checkpoint: data, not the user's config. Its errors are
  // CheckpointErrors (exit 1), except in values the user overrode with --set (exit 2).
  bool stored = false;
};

class ConfigView {
 public:
  ConfigView(const json& node, std::shared_ptr<const ConfigSource> source, std::string pointer = "");

  const json& json_value() const { return *node_; }
  const std::string& pointer() const { return pointer_; }
  const ConfigSource& source() const { return *source_; }
  std::shared_ptr<const ConfigSource> source_ptr() const { return source_; }
  // "file:/pointer", or "--set a.b=v" for an overridden value.
  std::string where() const;
  // True when this value (or a value above it) was set with --set.
  bool overridden() const;
  [[noreturn]] void fail(const std::string& what) const;

  bool is_object() const { return node_->is_object(); }
  bool is_array() const { return node_->is_array(); }
  bool is_string() const { return node_->is_string(); }
  bool is_number() const { return node_->is_number(); }
  bool is_integer() const;  // an integral number, also 3.0
  bool has(const std::string& key) const;
  std::size_t size() const;

  // Required child: "missing required field" error when absent.
  ConfigView at(const std::string& key) const;
  ConfigView at(std::size_t index) const;
  std::optional<ConfigView> find(const std::string& key) const;
  std::vector<std::string> keys() const;

  // Type checks on this node, with errors naming the expectation and the value found.
  void require_object() const;
  void require_array(bool non_empty = false) const;
  std::int64_t as_int(std::int64_t min = INT64_MIN, std::int64_t max = INT64_MAX) const;
  double as_double() const;
  double as_double_in(double min, double max, bool min_inclusive = true, bool max_inclusive = true) const;
  bool as_bool() const;
  std::string as_string() const;
  std::string as_choice(const std::vector<std::string>& choices) const;
  std::vector<double> as_double_list(std::size_t expected_size = 0) const;

  // Optional children with defaults.
  std::int64_t get_int(const std::string& key, std::int64_t def, std::int64_t min = INT64_MIN,
                       std::int64_t max = INT64_MAX) const;
  double get_double(const std::string& key, double def) const;
  bool get_bool(const std::string& key, bool def) const;
  std::string get_string(const std::string& key, const std::string& def) const;
  std::string get_choice(const std::string& key, const std::string& def,
                         const std::vector<std::string>& choices) const;

  // Unknown keys are errors that list the valid ones (and suggest the closest).
  void check_keys(const std::vector<std::string>& valid) const;

  // Short rendering of a JSON value for messages.
  static std::string render(const json& value);

 private:
  const json* node_;
  std::shared_ptr<const ConfigSource> source_;
  std::string pointer_;
};

}  // namespace cnnkit
