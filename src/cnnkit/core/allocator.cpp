#include "cnnkit/core/allocator.h"

#include <cstdlib>
#include <cstring>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

extern char** environ;

namespace cnnkit {

namespace {

bool user_steers_malloc() {
  const char* opt = std::getenv("CNNKIT_MALLOC");
  if (opt && std::strcmp(opt, "system") == 0) return true;
  if (std::getenv("GLIBC_TUNABLES")) return true;
  for (char** e = environ; e && *e; ++e)
    if (std::strncmp(*e, "MALLOC_", 7) == 0) return true;
  return false;
}

std::string apply() {
#if defined(__GLIBC__)
  if (user_steers_malloc()) return "system";
  // No mmap()ed chunks: every block comes from the heap (arenas retry the main arena for
  // blocks above their 64 MiB heap size), and a free heap top is never trimmed back.
  bool ok = mallopt(M_MMAP_MAX, 0) == 1;
  ok = mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1 && ok;  // 1 GiB, effectively never
  return ok ? "resident-heap" : "system";
#else
  return "system";
#endif
}

}  // namespace

std::string configure_allocator() {
  static const std::string mode = apply();
  return mode;
}

}  // namespace cnnkit
