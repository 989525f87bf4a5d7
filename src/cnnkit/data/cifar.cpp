#include "cnnkit/data/cifar.h"

#include <spdlog/spdlog.h>

#include <cstring>
#include <memory>

#include "cnnkit/core/error.h"
#include "cnnkit/core/input_file.h"
#include "cnnkit/core/size_math.h"
#include "cnnkit/core/strings.h"

namespace cnnkit {
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
  std::vector<std::unique_ptr<InputFile>> files;
  std::vector<std::int64_t> counts;
  std::int64_t total = 0;
  for (const auto& p : paths) {
    files.push_back(std::make_unique<InputFile>(p));  // regular files only: never blocks
    const InputFile& in = *files.back();
    if (!in.ok()) throw DataError(in.message("file"));
    const auto size = static_cast<std::int64_t>(std::min<std::uint64_t>(in.size(), kSizeSaturated));
    if (size == 0 || size % record != 0) {
      throw DataError(p + ": size " + std::to_string(size) + " is not a multiple of the " + std::to_string(record) +
                      "-byte record" + (size > record ? " (truncated or not a CIFAR file; the last record starts at byte " +
                                                            std::to_string(size / record * record) + ")"
                                                      : ""));
    }
    counts.push_back(size / record);
    total = sat_add(total, size / record);
  }
  const std::int64_t need = sat_mul(total, kPixels + 8);
  if (need > physical_memory_bytes()) {
    throw DataError(paths.back() + ": " + std::to_string(paths.size()) + " file(s) of " + with_commas(total) +
                    " records need " + human_bytes(double(need)) + " of memory, more than the " +
                    human_bytes(double(physical_memory_bytes())) + " this machine has");
  }
  // Records are copied from one reused file buffer straight into the image tensor: fresh
  // memory is expensive here (page faults), so nothing the size of the dataset is allocated twice.
  torch::Tensor images, labels;
  try {
    images = torch::empty({total, 3, 32, 32}, torch::kUInt8);
    labels = torch::empty({total}, torch::kInt64);
  } catch (const c10::Error&) {
    throw DataError(paths.back() + ": cannot allocate " + human_bytes(double(need)) + " for " + with_commas(total) +
                    " records (out of memory)");
  }
  std::uint8_t* img = images.data_ptr<std::uint8_t>();
  std::int64_t* lab = labels.data_ptr<std::int64_t>();
  std::vector<char> buffer;
  std::int64_t at = 0;
  for (std::size_t f = 0; f < paths.size(); ++f) {
    buffer.resize(static_cast<std::size_t>(counts[f] * record));
    const std::int64_t got = files[f]->read(buffer.data(), buffer.size());
    if (got < 0) throw DataError(files[f]->message("file"));
    if (got != static_cast<std::int64_t>(buffer.size())) {
      throw DataError(paths[f] + ": read failed after " + std::to_string(got) + " bytes (the file shrank?)");
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
  InputFile in(path);
  if (in.not_found()) {
    spdlog::warn("{}: not found; using the standard class names", path);
    return layout.default_names;
  }
  std::string text;
  if (!in.read_all(text, 1u << 20)) throw DataError(in.message("class-name file"));
  std::vector<std::string> names;
  for (const auto& raw : split(text, '\n')) {
    std::string line = trim(raw);
    if (!line.empty()) names.push_back(line);
  }
  if (static_cast<std::int64_t>(names.size()) != layout.num_classes) {
    throw DataError(path + ": expected " + std::to_string(layout.num_classes) + " class names (one per line), found " +
                    std::to_string(names.size()));
  }
  return names;
}

}  // namespace cnnkit
