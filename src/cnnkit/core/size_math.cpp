#include "cnnkit/core/size_math.h"

#include <unistd.h>

namespace cnnkit {

std::int64_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return kSizeSaturated;
  return sat_mul(pages, page);
}

}  // namespace cnnkit
