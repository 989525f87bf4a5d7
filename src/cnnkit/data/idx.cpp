#include "cnnkit/data/idx.h"

#include <zlib.h>

#include <cstring>
#include <filesystem>

#include "cnnkit/core/error.h"

namespace cnnkit {
namespace fs = std::filesystem;
namespace {

// Sequential reader over a raw or .gz file (zlib reads uncompressed files transparently).
class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path) {
    std::error_code ec;
    if (!fs::exists(path, ec)) throw DataError(path + ": file not found");
    if (fs::is_directory(path, ec)) throw DataError(path + ": is a directory, expected an IDX file");
    file_ = gzopen(path.c_str(), "rb");
    if (!file_) throw DataError(path + ": cannot open: " + std::strerror(errno));
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
  // Counts the bytes left (for the "got N bytes" part of a size error).
  std::size_t drain() {
    unsigned char buf[1 << 16];
    std::size_t n = 0;
    while (std::size_t got = read(buf, sizeof buf)) n += got;
    return n;
  }

 private:
  std::string path_;
  gzFile file_ = nullptr;
  std::size_t offset_ = 0;
};

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

// Reads the payload into dst and checks the file ends exactly there.
void read_payload(GzReader& in, const std::string& path, void* dst, std::size_t n) {
  const std::size_t header = in.offset();
  std::size_t got = in.read(dst, n);
  if (got < n) {
    throw DataError(path + ": truncated: expected " + std::to_string(header + n) + " bytes, got " +
                    std::to_string(header + got));
  }
  if (std::size_t extra = in.drain()) {
    throw DataError(path + ": " + std::to_string(extra) + " unexpected bytes after the " + std::to_string(header + n) +
                    " the header announces (byte offset " + std::to_string(header + n) + ")");
  }
}

}  // namespace

torch::Tensor read_idx_images(const std::string& path) {
  GzReader in(path);
  auto d = read_header(in, path, 3, "image");
  auto images = torch::empty({d[0], 1, d[1], d[2]}, torch::kUInt8);
  read_payload(in, path, images.data_ptr<std::uint8_t>(), static_cast<std::size_t>(images.numel()));
  return images;
}

torch::Tensor read_idx_labels(const std::string& path, std::int64_t num_classes) {
  GzReader in(path);
  auto d = read_header(in, path, 1, "label");
  auto bytes = torch::empty({d[0]}, torch::kUInt8);
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
  for (const auto& candidate : {name, name + ".gz", dotted, dotted + ".gz"}) {
    fs::path p = fs::path(root) / candidate;
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  throw DataError((fs::path(root) / name).string() + "[.gz]: file not found");
}

}  // namespace cnnkit
