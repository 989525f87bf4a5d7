#include "data/fixtures.h"

#include "cnnkit/core/error.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#ifdef CNNKIT_WITH_OPENCV
#include <opencv2/imgcodecs.hpp>
#endif

#include "support/cli.h"

namespace cnnkit::test {
namespace fs = std::filesystem;

std::uint8_t fixture_pixel(std::int64_t i, std::int64_t c, std::int64_t y, std::int64_t x) {
  return static_cast<std::uint8_t>((i * 37 + c * 101 + y * 13 + x * 7) % 251);
}

namespace {
void put32(std::string& s, std::uint32_t v) {
  for (int shift : {24, 16, 8, 0}) s.push_back(static_cast<char>((v >> shift) & 0xff));
}
}  // namespace

std::string idx_images_bytes(std::int64_t n, std::int64_t h, std::int64_t w) {
  std::string s("\0\0\x08\x03", 4);
  put32(s, static_cast<std::uint32_t>(n));
  put32(s, static_cast<std::uint32_t>(h));
  put32(s, static_cast<std::uint32_t>(w));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t y = 0; y < h; ++y)
      for (std::int64_t x = 0; x < w; ++x) s.push_back(static_cast<char>(fixture_pixel(i, 0, y, x)));
  return s;
}

std::string idx_labels_bytes(const std::vector<int>& labels) {
  std::string s("\0\0\x08\x01", 4);
  put32(s, static_cast<std::uint32_t>(labels.size()));
  for (int l : labels) s.push_back(static_cast<char>(l));
  return s;
}

void write_file(const fs::path& path, const std::string& bytes, bool gz) {
  fs::create_directories(path.parent_path());
  if (!gz) {
    std::ofstream(path, std::ios::binary) << bytes;
    return;
  }
  gzFile f = gzopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + path.string());
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

void write_mnist(const fs::path& dir, std::int64_t train, std::int64_t test, bool gz, std::int64_t h,
                 std::int64_t w) {
  const std::string ext = gz ? ".gz" : "";
  for (auto [split, n] : {std::pair<std::string, std::int64_t>{"train", train}, {"t10k", test}}) {
    std::vector<int> labels;
    for (std::int64_t i = 0; i < n; ++i) labels.push_back(static_cast<int>(i % 10));
    write_file(dir / (split + "-images-idx3-ubyte" + ext), idx_images_bytes(n, h, w), gz);
    write_file(dir / (split + "-labels-idx1-ubyte" + ext), idx_labels_bytes(labels), gz);
  }
}

std::string cifar_record(std::int64_t i, int label, int label_bytes) {
  std::string s;
  for (int k = 0; k < label_bytes; ++k) s.push_back(static_cast<char>(k + 1 == label_bytes ? label : label % 20));
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) s.push_back(static_cast<char>(fixture_pixel(i, c, y, x)));
  return s;
}

void write_cifar10(const fs::path& dir, std::int64_t per_file, std::int64_t test, bool meta) {
  std::int64_t i = 0;
  for (int f = 1; f <= 5; ++f) {
    std::string bytes;
    for (std::int64_t k = 0; k < per_file; ++k, ++i) bytes += cifar_record(i, static_cast<int>(i % 10));
    write_file(dir / ("data_batch_" + std::to_string(f) + ".bin"), bytes);
  }
  std::string bytes;
  for (std::int64_t k = 0; k < test; ++k) bytes += cifar_record(k, static_cast<int>(k % 10));
  write_file(dir / "test_batch.bin", bytes);
  if (meta) write_file(dir / "batches.meta.txt", "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
}

void write_image_folder(const fs::path& dir, const std::vector<std::string>& classes, std::int64_t per_class,
                        std::int64_t h, std::int64_t w, int channels, const std::string& ext) {
#ifdef CNNKIT_WITH_OPENCV
  std::int64_t i = 0;
  for (const auto& c : classes) {
    fs::create_directories(dir / c);
    for (std::int64_t k = 0; k < per_class; ++k, ++i) {
      cv::Mat m(static_cast<int>(h), static_cast<int>(w), channels == 1 ? CV_8UC1 : CV_8UC3);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          for (int ch = 0; ch < channels; ++ch)  // stored BGR: channel ch of RGB goes to 2 - ch
            m.ptr<std::uint8_t>(y)[x * channels + (channels == 1 ? 0 : 2 - ch)] = fixture_pixel(i, ch, y, x);
      char name[32];
      std::snprintf(name, sizeof name, "%03lld.%s", static_cast<long long>(k), ext.c_str());
      cv::imwrite((dir / c / name).string(), m);
    }
  }
#else
  throw std::runtime_error("fixtures need OpenCV");
#endif
}

std::string write_config(const fs::path& dir, const std::string& data_json, int channels, int h, int w,
                         int classes, const std::string& name) {
  std::ostringstream s;
  s << "{\"input\": {\"channels\": " << channels << ", \"height\": " << h << ", \"width\": " << w << "},\n"
    << " \"layers\": [{\"type\": \"flatten\"}, {\"type\": \"dense\", \"units\": " << classes << "}],\n"
    << " \"data\": " << data_json << "}\n";
  fs::path p = dir / name;
  write_file(p, s.str());
  return p.string();
}

std::optional<Cifar10Cache> cifar10_cache() {
  const fs::path shared = shared_data() / "cifar10";
  if (!fs::exists(shared / "cifar10-jpg.tar.gz") || !fs::exists(shared / "SHA256SUMS.bin")) return std::nullopt;
  std::ifstream sums(shared / "SHA256SUMS.bin");
  std::stringstream text;
  text << sums.rdbuf();
  const std::string key = std::to_string(std::hash<std::string>{}(text.str()) % 1000000007ull) + "-" +
                          std::to_string(fs::file_size(shared / "cifar10-jpg.tar.gz"));
  const fs::path root = fs::temp_directory_path() / "cnnkit-test-cache" / ("cifar10-" + key);
  fs::create_directories(root);
  Cifar10Cache cache{root / "cifar10-jpg", root / "cifar10"};
  if (fs::exists(root / ".verified")) return cache;
  // One producer at a time (ctest runs tests as parallel processes).
  int fd = ::open((root / ".lock").c_str(), O_CREAT | O_RDWR, 0644);
  if (fd < 0 || ::flock(fd, LOCK_EX) != 0) throw std::runtime_error("cannot lock " + root.string());
  if (!fs::exists(root / ".verified")) {
    const std::string cmd = "'" + source_dir() + "/scripts/get-data.sh' --mirror '" + shared_data().string() + "' --dest '" + root.string() + "' cifar10 >'" + (root / "get-data.log").string() + "' 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      ::close(fd);
      throw std::runtime_error("scripts/get-data.sh failed; see " + (root / "get-data.log").string());
    }
    std::ofstream(root / ".verified") << "ok\n";
  }
  ::close(fd);
  return cache;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no DataError)";
}

}  // namespace cnnkit::test
