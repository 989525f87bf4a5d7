#include "cnnkit/core/install_dirs.h"

#include <system_error>

#ifndef CNNKIT_RELATIVE_DATADIR
#define CNNKIT_RELATIVE_DATADIR "../share/cnnkit"
#endif

namespace cnnkit {
namespace fs = std::filesystem;

fs::path executable_path() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe;
}

const char* relative_data_dir() { return CNNKIT_RELATIVE_DATADIR; }

fs::path installed_data_dir() {
  const fs::path exe = executable_path();
  if (exe.empty()) return {};
  return (exe.parent_path() / relative_data_dir()).lexically_normal();
}

}  // namespace cnnkit
