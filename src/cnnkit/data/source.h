// Data sources: a registry with one file per source (data/sources/), like layer types. A source
// states the config keys it takes besides the common ones (docs/data.md), validates them and
// fills in its defaults when the config is resolved, and loads its files into memory.
// Adding a source touches its own file and its test.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cnnkit/config/config_view.h"
#include "cnnkit/core/registry.h"
#include "cnnkit/data/dataset.h"

namespace cnnkit {

// The model's input, which image sources convert and resize to.
struct InputShape {
  std::int64_t channels = 0, height = 0, width = 0;
};

struct SourceRequest {
  const json& section;  // the resolved "data" section (common keys and this source's own)
  std::string root;     // absolute, an existing folder
  InputShape input;
  bool need_train = true;
  bool need_test = true;
};

struct LoadedSource {
  ImageSet train, test;  // uint8 [N, C, H, W] as stored (converted to the input later)
  std::vector<std::string> class_names;
  std::vector<std::string> files;          // what was read, for `cnnkit data` and the stats cache
  std::vector<std::int64_t> source_shape;  // [C, H, W] as stored
  json extra = json::object();             // source-specific facts for the description
};

class DataSource {
 public:
  virtual ~DataSource() = default;
  virtual std::string doc() const = 0;
  // Keys this source takes besides the common ones.
  virtual std::vector<std::string> keys() const { return {}; }
  // The root when the config gives none; "" makes data.root required.
  virtual std::string default_root() const = 0;
  // Validates this source's keys in `section` and adds them, with defaults, to `out`.
  virtual void resolve(const ConfigView& section, const InputShape& input, json& out) const {}
  // Loads the splits the request asks for. Throws DataError naming the file (and record).
  virtual LoadedSource load(const SourceRequest& request) const = 0;
};

Registry<DataSource>& data_source_registry();

template <typename T>
struct DataSourceRegistrar {
  template <typename... Args>
  explicit DataSourceRegistrar(const std::string& name, Args&&... args) {
    data_source_registry().add(name, std::make_unique<T>(std::forward<Args>(args)...));
  }
};

}  // namespace cnnkit
