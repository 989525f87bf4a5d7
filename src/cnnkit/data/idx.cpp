#include "cnnkit/data/idx.h"

#include <unistd.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>

#include "cnnkit/core/error.h"
#include "cnnkit/core/input_file.h"
#include "cnnkit/core/size_math.h"
#include "cnnkit/core/strings.h"

namespace cnnkit {
namespace fs = std::filesystem;
namespace {

// Sequential reader over a raw or .gz file (zlib reads uncompressed files transparently).
class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path) {
    InputFile in(path);  // refuses directories, FIFOs, devices, link loops without blocking
    if (!in.ok()) throw DataError(in.message("file"));
    file_size_ = in.size();
    const int fd = in.release();
    file_ = gzdopen(fd, "rb");
    if (!file_) {
      ::close(fd);
      throw DataError(path + ": cannot open: out of memory");
    }
    gzbuffer(file_, 1 << 20);
  }
  ~GzReader() {
    if (file_) gzclose(file_);
  }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  // Reads up to n bytes; returns how many were read (short only at the end of the data).
  std::size_t read(void* dst, std::size_t n) {
    std::size_t done = 0;
    auto* out = static_cast<unsigned char*>(dst);
    while (done < n) {
      unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30));
      int got = gzread(file_, out + done, chunk);
      if (got < 0) {
        int code = 0;
        const char* msg = gzerror(file_, &code);
        throw DataError(path_ + ": corrupt gzip data after " + std::to_string(offset_ + done) +
                        " bytes: " + (msg ? msg : "unknown zlib error"));
      }
      if (got == 0) break;
      done += static_cast<std::size_t>(got);
    }
    offset_ += done;
    return done;
  }
  std::size_t offset() const { return offset_; }
  // Counts the bytes left (for the "N unexpected bytes" part of a size error), up to `limit`.
  std::size_t drain(std::size_t limit) {
    unsigned char buf[1 << 16];
    std::size_t n = 0;
    while (n <= limit)
      if (std::size_t got = read(buf, sizeof buf)) n += got;
      else break;
    return n;
  }
  // Valid after the first read: true for gzip data, false for a raw file.
  bool compressed() const { return gzdirect(file_) == 0; }
  std::uint64_t file_size() const { return file_size_; }

 private:
  std::string path_;
  gzFile file_ = nullptr;
  std::size_t offset_ = 0;
  std::uint64_t file_size_ = 0;
};

// Deflate cannot expand data by more than about 1032:1, so a gzip file of S bytes never holds
// more than this many bytes: a header announcing more is damaged or lying.
std::uint64_t max_gzip_content(std::uint64_t compressed) { return compressed * 1040 + 4096; }

std::uint32_t big_endian(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | p[3];
}

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// Reads and checks the header; returns the dimensions.
std::vector<std::int64_t> read_header(GzReader& in, const std::string& path, int want_dims, const char* what) {
  unsigned char magic[4];
  std::size_t got = in.read(magic, 4);
  if (got < 4) throw DataError(path + ": truncated: expected at least 4 header bytes, got " + std::to_string(got));
  const std::uint32_t want_magic = 0x0800u | static_cast<std::uint32_t>(want_dims);
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08) {
    throw DataError(path + ": not an IDX " + what + " file: magic number " + hex32(big_endian(magic)) +
                    " at byte 0, expected " + hex32(want_magic) +
                    (magic[2] != 0x08 && magic[0] == 0 && magic[1] == 0 ? " (only unsigned-byte data, type 0x08, is supported)" : ""));
  }
  if (magic[3] != want_dims) {
    throw DataError(path + ": wrong IDX dimensions for " + what + ": the header (byte 3) says " +
                    std::to_string(magic[3]) + ", expected " + std::to_string(want_dims) + " (magic " +
                    hex32(want_magic) + ")");
  }
  std::vector<unsigned char> raw(4 * static_cast<std::size_t>(want_dims));
  got = in.read(raw.data(), raw.size());
  if (got < raw.size()) {
    throw DataError(path + ": truncated: expected " + std::to_string(4 + raw.size()) + " header bytes, got " +
                    std::to_string(4 + got));
  }
  std::vector<std::int64_t> dims;
  for (int i = 0; i < want_dims; ++i) {
    std::int64_t d = big_endian(raw.data() + 4 * i);
    if (d == 0 || (i > 0 && d > 65535)) {
      throw DataError(path + ": implausible dimension " + std::to_string(i) + " = " + std::to_string(d) +
                      " at byte " + std::to_string(4 + 4 * i));
    }
    dims.push_back(d);
  }
  return dims;
}

std::string dims_text(const std::vector<std::int64_t>& d) {
  std::string out;
  for (std::size_t i = 0; i < d.size(); ++i) out += (i ? " × " : "") + std::to_string(d[i]);
  return out;
}

// Checks that the payload the header announces can be in this file and in memory, before
// anything is allocated: a raw file must be exactly header + payload bytes long; a gzip file
// cannot hold more than max_gzip_content; neither may need more memory than the machine has.
void check_payload_size(GzReader& in, const std::string& path, const std::vector<std::int64_t>& dims) {
  const std::size_t header = in.offset();
  std::int64_t payload = 1;
  for (auto d : dims) payload = sat_mul(payload, d);
  const std::string announced = "the header (bytes 4-" + std::to_string(header - 1) + ": " + dims_text(dims) + ")";
  if (payload == kSizeSaturated) {
    throw DataError(path + ": " + announced + " announces more data than 64-bit sizes can count");
  }
  if (!in.compressed()) {
    const std::uint64_t expected = static_cast<std::uint64_t>(sat_add(payload, static_cast<std::int64_t>(header)));
    if (in.file_size() < expected) {
      throw DataError(path + ": truncated: expected " + std::to_string(expected) + " bytes, got " +
                      std::to_string(in.file_size()) + " (" + announced + " announces " + std::to_string(payload) +
                      " data bytes)");
    }
    if (in.file_size() > expected) {
      throw DataError(path + ": " + std::to_string(in.file_size() - expected) + " unexpected bytes after the " +
                      std::to_string(expected) + " the header announces (byte offset " + std::to_string(expected) +
                      ")");
    }
  } else if (static_cast<std::uint64_t>(payload) > max_gzip_content(in.file_size())) {
    throw DataError(path + ": corrupt or truncated: " + announced + " announces " + std::to_string(payload) +
                    " data bytes, more than a gzip file of " + std::to_string(in.file_size()) + " bytes can hold");
  }
  if (payload > physical_memory_bytes()) {
    throw DataError(path + ": " + announced + " announces " + human_bytes(double(payload)) +
                    " of data, more than the " + human_bytes(double(physical_memory_bytes())) +
                    " of memory this machine has");
  }
}

torch::Tensor allocate(const std::string& path, const std::vector<std::int64_t>& sizes) {
  try {
    return torch::empty(sizes, torch::kUInt8);
  } catch (const c10::Error&) {
    std::int64_t n = 1;
    for (auto d : sizes) n = sat_mul(n, d);
    throw DataError(path + ": cannot allocate " + human_bytes(double(n)) + " for its data (out of memory)");
  }
}

// Reads the payload into dst and checks the file ends exactly there.
void read_payload(GzReader& in, const std::string& path, void* dst, std::size_t n) {
  const std::size_t header = in.offset();
  std::size_t got = in.read(dst, n);
  if (got < n) {
    throw DataError(path + ": truncated: expected " + std::to_string(header + n) + " bytes, got " +
                    std::to_string(header + got));
  }
  constexpr std::size_t kCountLimit = 64u << 20;
  if (std::size_t extra = in.drain(kCountLimit)) {
    throw DataError(path + ": " + (extra > kCountLimit ? "more than " : "") + std::to_string(extra) +
                    " unexpected bytes after the " + std::to_string(header + n) +
                    " the header announces (byte offset " + std::to_string(header + n) + ")");
  }
}

}  // namespace

torch::Tensor read_idx_images(const std::string& path) {
  GzReader in(path);
  auto d = read_header(in, path, 3, "image");
  check_payload_size(in, path, d);
  auto images = allocate(path, {d[0], 1, d[1], d[2]});
  read_payload(in, path, images.data_ptr<std::uint8_t>(), static_cast<std::size_t>(images.numel()));
  return images;
}

torch::Tensor read_idx_labels(const std::string& path, std::int64_t num_classes) {
  GzReader in(path);
  auto d = read_header(in, path, 1, "label");
  check_payload_size(in, path, d);
  auto bytes = allocate(path, {d[0]});
  read_payload(in, path, bytes.data_ptr<std::uint8_t>(), static_cast<std::size_t>(d[0]));
  const std::uint8_t* p = bytes.data_ptr<std::uint8_t>();
  for (std::int64_t i = 0; i < d[0]; ++i) {
    if (p[i] >= num_classes) {
      throw DataError(path + ": record " + std::to_string(i) + " (byte offset " + std::to_string(8 + i) +
                      "): label " + std::to_string(p[i]) + " out of range 0.." + std::to_string(num_classes - 1));
    }
  }
  return bytes.to(torch::kInt64);
}

std::vector<std::string> mnist_file_names(const std::string& split) {
  return {split + "-images-idx3-ubyte", split + "-labels-idx1-ubyte"};
}

std::string find_idx_file(const std::string& root, const std::string& name) {
  std::string dotted = name;
  if (auto p = dotted.find("-idx"); p != std::string::npos) dotted[p] = '.';
  std::error_code ec;
  const std::vector<std::string> candidates = {name, name + ".gz", dotted, dotted + ".gz"};
  for (const auto& candidate : candidates) {
    fs::path p = fs::path(root) / candidate;
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  // Else anything by one of those names (a directory, FIFO, dangling link): the reader says what is wrong.
  for (const auto& candidate : candidates) {
    fs::path p = fs::path(root) / candidate;
    if (fs::symlink_status(p, ec).type() != fs::file_type::not_found && !ec) return p.string();
  }
  throw DataError((fs::path(root) / name).string() + "[.gz]: file not found");
}

}  // namespace cnnkit
