#include "cnnkit/core/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

namespace cnnkit {
namespace {

std::string kind_problem(mode_t mode) {
  if (S_ISDIR(mode)) return "is a directory";
  if (S_ISFIFO(mode)) return "is a named pipe (FIFO)";
  if (S_ISCHR(mode)) return "is a character device";
  if (S_ISBLK(mode)) return "is a block device";
  if (S_ISSOCK(mode)) return "is a socket";
  return "is not a regular file";
}

// Why stat()/open() failed with `err`, in words.
std::string errno_problem(const std::string& path, int err) {
  if (err == ENOENT) {
    struct stat l {};
    if (::lstat(path.c_str(), &l) == 0 && S_ISLNK(l.st_mode)) {
      char target[PATH_MAX];
      ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
      std::string to = n > 0 ? " to '" + std::string(target, static_cast<std::size_t>(n)) + "'" : "";
      return "dangling symbolic link" + to + " (its target does not exist)";
    }
    return "not found";
  }
  if (err == ELOOP) return "symbolic link loop (too many levels of symbolic links)";
  if (err == ENOTDIR) return "not found (a part of the path is not a folder)";
  if (err == EACCES) return "permission denied";
  if (err == ENAMETOOLONG) return "path too long";
  return std::strerror(err);
}

}  // namespace

std::string input_file_problem(const std::string& path) {
  InputFile f(path);
  return f.problem();
}

void InputFile::fail(Kind kind, std::string problem) {
  kind_ = kind;
  problem_ = std::move(problem);
}

std::string InputFile::message(const std::string& what) const {
  // An error message is a C string in the end (what()): show a NUL byte instead of stopping at it.
  std::string shown;
  for (char c : path_) shown += c == '\0' ? std::string("\\0") : std::string(1, c);
  switch (kind_) {
    case Kind::kNotFound: return shown + ": " + what + " not found";
    case Kind::kNotRegular: {
      const bool vowel = !what.empty() && std::string("aeiou").find(what[0]) != std::string::npos;
      return shown + ": " + problem_ + ", expected " + (vowel ? "an " : "a ") + what;
    }
    default: return shown + ": cannot read " + what + ": " + problem_;
  }
}

InputFile::InputFile(const std::string& path) : path_(path) { open(path); }

void InputFile::open(const std::string& path) {
  if (path.empty()) return fail(Kind::kNotFound, "not found");
  if (path.find('\0') != std::string::npos) return fail(Kind::kOther, "path contains a NUL byte");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    return fail(err == ENOENT && errno_problem(path, err) == "not found" ? Kind::kNotFound : Kind::kOther,
                errno_problem(path, err));
  }
  if (!S_ISREG(st.st_mode)) return fail(Kind::kNotRegular, kind_problem(st.st_mode));
  // O_NONBLOCK: should a FIFO replace the file between the check and the open, opening it does
  // not wait for a writer; fstat below then refuses it.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return fail(Kind::kOther, errno_problem(path, errno));
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const int err = errno;
    ::close(fd);
    if (!S_ISREG(st.st_mode)) return fail(Kind::kNotRegular, kind_problem(st.st_mode));
    return fail(Kind::kOther, std::strerror(err));
  }
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  fd_ = fd;
  size_ = static_cast<std::uint64_t>(st.st_size);
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

int InputFile::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

std::int64_t InputFile::read(void* dst, std::uint64_t n) {
  auto* out = static_cast<unsigned char*>(dst);
  std::uint64_t done = 0;
  while (done < n) {
    const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(n - done, 1u << 30));
    ssize_t got = ::read(fd_, out + done, chunk);
    if (got < 0) {
      if (errno == EINTR) continue;
      fail(Kind::kOther, "read failed after " + std::to_string(done) + " bytes: " + std::strerror(errno));
      return -1;
    }
    if (got == 0) break;
    done += static_cast<std::uint64_t>(got);
  }
  return static_cast<std::int64_t>(done);
}

bool InputFile::read_all(std::string& out, std::uint64_t max_bytes) {
  if (!ok()) return false;
  if (size_ > max_bytes) {
    fail(Kind::kOther, "the file is " + std::to_string(size_) + " bytes, more than the " + std::to_string(max_bytes) +
                           " accepted");
    return false;
  }
  // The file may have grown since fstat: keep reading until its end, within the bound.
  out.resize(static_cast<std::size_t>(size_));
  std::int64_t got = read(out.data(), size_);
  if (got < 0) return false;
  out.resize(static_cast<std::size_t>(got));
  for (;;) {
    char buf[4096];
    std::int64_t g = read(buf, sizeof buf);
    if (g < 0) return false;
    if (g == 0) return true;
    if (out.size() + static_cast<std::uint64_t>(g) > max_bytes) {
      fail(Kind::kOther, "the file grew beyond the " + std::to_string(max_bytes) + " bytes accepted while being read");
      return false;
    }
    out.append(buf, static_cast<std::size_t>(g));
  }
}

}  // namespace cnnkit
