// IDX reader (data/idx.h), raw and gzip. Input: one mode byte, then the file. Mode bit 0 = 1
// gzip-compresses the rest first, so the fuzzer explores IDX headers behind zlib too (inputs
// that already are gzip data reach zlib directly with mode 0). Each file is read as images and
// as labels.
#include <zlib.h>

#include "cnnkit/data/idx.h"
#include "fuzz_support.h"

namespace {

std::string gzip(const std::string& raw) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, raw.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cnnkit::fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string path = cnnkit::fuzz::write_temp("input-idx", data[0] & 1 ? gzip(body) : body);
  cnnkit::fuzz::expect_clean([&] {
    auto images = cnnkit::read_idx_images(path);
    if (images.dim() != 4 || images.size(1) != 1) std::abort();
  });
  cnnkit::fuzz::expect_clean([&] {
    auto labels = cnnkit::read_idx_labels(path, 1 + data[0] / 2);
    if (labels.numel() && labels.max().item<std::int64_t>() > data[0] / 2) std::abort();
  });
  return 0;
}
