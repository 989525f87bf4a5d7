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
  auto raw = torch::empty({total, record}, torch::kUInt8);
  std::int64_t at = 0;
  for (std::size_t f = 0; f < paths.size(); ++f) {
    std::ifstream in(paths[f], std::ios::binary);
    auto* dst = reinterpret_cast<char*>(raw.data_ptr<std::uint8_t>() + at * record);
    in.read(dst, counts[f] * record);
    if (in.gcount() != counts[f] * record) {
      throw DataError(paths[f] + ": read failed after " + std::to_string(in.gcount()) + " bytes");
    }
    const std::uint8_t* rec = raw.data_ptr<std::uint8_t>() + at * record;
    for (std::int64_t i = 0; i < counts[f]; ++i) {
      std::uint8_t label = rec[i * record + layout.label_bytes - 1];
      if (label >= layout.num_classes) {
        throw DataError(paths[f] + ": record " + std::to_string(i) + " (byte offset " + std::to_string(i * record) +
                        "): label " + std::to_string(label) + " out of range 0.." +
                        std::to_string(layout.num_classes - 1));
      }
    }
    at += counts[f];
  }
  ImageSet set;
  set.labels = raw.select(1, layout.label_bytes - 1).to(torch::kInt64);
  set.images = raw.narrow(1, layout.label_bytes, kPixels).contiguous().view({total, 3, 32, 32});
  return set;
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
