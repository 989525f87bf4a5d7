#include "cnnkit/core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <system_error>

#include "cnnkit/core/error.h"
#include "cnnkit/core/input_file.h"
#include "cnnkit/core/interrupt.h"

namespace cnnkit {
namespace fs = std::filesystem;

namespace {

std::string reason(int err) { return std::strerror(err); }

// write(2) until done, retrying short writes and EINTR.
bool write_all(int fd, std::string_view bytes, int& err) {
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      return false;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

void fsync_folder(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // e.g. no permission to read the folder: the rename itself succeeded
  ::fsync(fd);
  ::close(fd);
}

fs::path folder_of(const fs::path& path) { return path.has_parent_path() ? path.parent_path() : fs::path("."); }

fs::path temporary_name(const fs::path& path) {
  std::random_device rd;
  return folder_of(path) / ("." + path.filename().string() + ".tmp" + std::to_string(rd() % 1000000));
}

const std::string kKept = " (the previous version, if any, is kept)";

}  // namespace

void write_atomically(const fs::path& path, const std::function<void(const fs::path&)>& write, bool durable) {
  const fs::path tmp = temporary_name(path);
  CriticalSection critical;
  try {
    write(tmp);
    int err = 0;
    if (durable) {
      const int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::fsync(fd) != 0) err = errno;
      if (fd >= 0) ::close(fd);
    }
    if (!err && ::rename(tmp.c_str(), path.c_str()) != 0) err = errno;
    if (err) throw Error(path.string() + ": cannot write: " + reason(err) + kKept);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  if (durable) fsync_folder(folder_of(path));
}

void write_file_atomically(const fs::path& path, std::string_view bytes, bool durable) {
  const fs::path tmp = temporary_name(path);
  CriticalSection critical;  // a second Ctrl-C waits for the rename
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(path.string() + ": cannot write: " + reason(errno) + kKept);
  int err = 0;
  bool ok = write_all(fd, bytes, err);
  if (ok && durable && ::fsync(fd) != 0) {
    ok = false;
    err = errno;
  }
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    throw Error(path.string() + ": cannot write: " + reason(err) + kKept);
  }
  if (durable) fsync_folder(folder_of(path));
}

std::string read_text_file(const fs::path& path, const char* what, std::uint64_t max_bytes) {
  InputFile in(path.string());
  std::string text;
  if (!in.read_all(text, max_bytes)) throw ConfigError(in.message(what));
  return text;
}

}  // namespace cnnkit
