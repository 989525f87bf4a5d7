#include "cnnkit/data/source.h"

namespace cnnkit {

Registry<DataSource>& data_source_registry() {
  static Registry<DataSource> registry("data source");
  return registry;
}

}  // namespace cnnkit
