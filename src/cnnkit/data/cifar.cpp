#include "cnnkit/data/cifar.h"

#include <spdlog/spdlog.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "cnnkit/core/error.h"
#include "cnnkit/core/strings.h"

namespace cnnkit {
namespace fs = std::filesystem;
namespace {
constexpr std::int64_t kPixels = 3 * 32 * 32;
}

CifarLayout cifar_layout(const std::string& source) {
  if (source == "cifar10") {
    CifarLayout l{{}, {"test_batch.bin"}, "batches.meta.txt", 1, 10,
                  {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}};
    for (int i = 1; i <= 5; ++i) l.train_files.push_back("data_batch_" + std::to_string(i) + ".bin");
    return l;
  }
  if (source == "cifar100") {
    CifarLayout l{{"train.bin"}, {"test.bin"}, "fine_label_names.txt", 2, 100, {}};
    for (int i = 0; i < 100; ++i) l.default_names.push_back("class_" + std::to_string(i));
    return l;
  }
  throw DataError("unknown CIFAR source '" + source + "'");
}

ImageSet read_cifar_files(const std::vector<std::string>& paths, const CifarLayout& layout) {
  const std::int64_t record = layout.label_bytes + kPixels;
  std::vector<std::int64_t> counts;
  std::int64_t total = 0;
  for (const auto& p : paths) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) throw DataError(p + ": file not found");
    auto size = static_cast<std::int64_t>(fs::file_size(p, ec));
    if (ec) throw DataError(p + ": cannot read: " + ec.message());
    if (size == 0 || size % record != 0) {
      throw DataError(p + ": size " + std::to_string(size) + " is not a multiple of the " + std::to_string(record) +
                      "-byte record" + (size > record ? " (truncated or not a CIFAR file; the last record starts at byte " +
                                                            std::to_string(size / record * record) + ")"
                                                      : ""));
    }
    counts.push_back(size / record);
    total += size / record;
  }
  // Records are copied from one reused file buffer straight into the image tensor: fresh
  // memory is expensive here (page faults), so nothing the size of the dataset is allocated twice.
  auto images = torch::empty({total, 3, 32, 32}, torch::kUInt8);
  auto labels = torch::empty({total}, torch::kInt64);
  std::uint8_t* img = images.data_ptr<std::uint8_t>();
  std::int64_t* lab = labels.data_ptr<std::int64_t>();
  std::vector<char> buffer;
  std::int64_t at = 0;
  for (std::size_t f = 0; f < paths.size(); ++f) {
    buffer.resize(static_cast<std::size_t>(counts[f] * record));
    std::ifstream in(paths[f], std::ios::binary);
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (in.gcount() != static_cast<std::streamsize>(buffer.size())) {
      throw DataError(paths[f] + ": read failed after " + std::to_string(in.gcount()) + " bytes");
    }
    const auto* rec = reinterpret_cast<const std::uint8_t*>(buffer.data());
    for (std::int64_t i = 0; i < counts[f]; ++i, rec += record) {
      const std::uint8_t label = rec[layout.label_bytes - 1];
      if (label >= layout.num_classes) {
        throw DataError(paths[f] + ": record " + std::to_string(i) + " (byte offset " + std::to_string(i * record) +
                        "): label " + std::to_string(label) + " out of range 0.." +
                        std::to_string(layout.num_classes - 1));
      }
      lab[at + i] = label;
      std::memcpy(img + (at + i) * kPixels, rec + layout.label_bytes, kPixels);
    }
    at += counts[f];
  }
  return ImageSet{images, labels};
}

std::vector<std::string> read_cifar_class_names(const std::string& path, const CifarLayout& layout) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    spdlog::warn("{}: not found; using the standard class names", path);
    return layout.default_names;
  }
  std::ifstream in(path);
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    line = trim(line);
    if (!line.empty()) names.push_back(line);
  }
  if (static_cast<std::int64_t>(names.size()) != layout.num_classes) {
    throw DataError(path + ": expected " + std::to_string(layout.num_classes) + " class names (one per line), found " +
                    std::to_string(names.size()));
  }
  return names;
}

}  // namespace cnnkit
