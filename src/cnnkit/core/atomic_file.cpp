#include "cnnkit/core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <system_error>

#include "cnnkit/core/error.h"
#include "cnnkit/core/input_file.h"

namespace cnnkit {
namespace fs = std::filesystem;

void write_atomically(const fs::path& path, const std::function<void(const fs::path&)>& write, bool durable) {
  fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::random_device rd;
  fs::path tmp = dir / ("." + path.filename().string() + ".tmp" + std::to_string(rd() % 1000000));
  try {
    write(tmp);
    // Make the bytes durable before the rename makes them visible.
    int fd = durable ? ::open(tmp.c_str(), O_RDONLY) : -1;
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) throw Error(path.string() + ": cannot write: " + ec.message());
  } catch (...) {
    std::error_code ignore;
    fs::remove(tmp, ignore);
    throw;
  }
}

void write_text_atomically(const fs::path& path, const std::string& text) {
  write_atomically(path, [&](const fs::path& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw Error(path.string() + ": cannot write (check that the folder exists and is writable)");
    out << text;
    out.close();
    if (!out) throw Error(path.string() + ": write failed (disk full?)");
  });
}

std::string read_text_file(const fs::path& path, const char* what, std::uint64_t max_bytes) {
  InputFile in(path.string());
  std::string text;
  if (!in.read_all(text, max_bytes)) throw ConfigError(in.message(what));
  return text;
}

}  // namespace cnnkit
