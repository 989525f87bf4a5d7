// Opening input files without surprises. Every reader of user-given files (configs, IDX and
// CIFAR files, images, checkpoints) opens them through InputFile, so that:
// - only regular files are read (symbolic links are followed): a directory, a FIFO, a device
//   (/dev/zero), a socket, a symbolic-link loop or a dangling link is refused with a reason,
//   and never blocks (FIFOs are opened non-blocking, devices are not opened at all);
// - a path holding a NUL byte (possible in JSON strings) is refused instead of being cut short;
// - whole-file reads are bounded by a caller-given maximum.
// message(what) is one line for the caller's own error type (ConfigError, DataError, ...):
//   "x.json: config file not found", "x.json: is a named pipe (FIFO), expected a config file",
//   "x.json: cannot read config file: symbolic link loop (too many levels of symbolic links)".
#pragma once
#include <cstdint>
#include <string>

namespace cnnkit {

class InputFile {
 public:
  // Opens `path` for reading when it is a regular file; otherwise ok() is false.
  explicit InputFile(const std::string& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  bool ok() const { return fd_ >= 0; }
  // Why the file cannot be read, as a phrase ("" when nothing went wrong).
  const std::string& problem() const { return problem_; }
  bool not_found() const { return kind_ == Kind::kNotFound; }
  // One line naming the path: "PATH: WHAT not found", "PATH: is a directory, expected a WHAT",
  // "PATH: cannot read WHAT: PROBLEM".
  std::string message(const std::string& what) const;
  const std::string& path() const { return path_; }
  int fd() const { return fd_; }
  // The size when it was opened.
  std::uint64_t size() const { return size_; }
  // Hands the descriptor over (e.g. to gzdopen); the object no longer closes it.
  int release();

  // Reads up to `n` bytes at the current offset, retrying short reads and EINTR; returns the
  // count read (short only at the end of the file). On an I/O error: -1 and problem() set.
  std::int64_t read(void* dst, std::uint64_t n);
  // The whole file, when it holds at most `max_bytes` (else false with problem() set, nothing
  // large allocated).
  bool read_all(std::string& out, std::uint64_t max_bytes);

 private:
  enum class Kind { kNone, kNotFound, kNotRegular, kOther };
  void open(const std::string& path);
  void fail(Kind kind, std::string problem);

  std::string path_;
  std::string problem_;
  Kind kind_ = Kind::kNone;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// The reason `path` cannot be opened as a regular file, or "" when it can (never blocks).
std::string input_file_problem(const std::string& path);

}  // namespace cnnkit
