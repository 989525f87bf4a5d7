// CIFAR binary reader (data/cifar.h). Input: one mode byte (bit 0: CIFAR-10 or CIFAR-100
// layout; bit 1: read the rest also as a class-name file), then the file.
#include "cnnkit/data/cifar.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cnnkit::fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto layout = cnnkit::cifar_layout(data[0] & 1 ? "cifar100" : "cifar10");
  const std::string path =
      cnnkit::fuzz::write_temp("data_batch_1.bin", std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  cnnkit::fuzz::expect_clean([&] {
    cnnkit::ImageSet set = cnnkit::read_cifar_files({path, path}, layout);
    if (set.images.size(0) != set.labels.size(0) || set.images.size(1) != 3) std::abort();
  });
  if (data[0] & 2) {
    cnnkit::fuzz::expect_clean([&] {
      auto names = cnnkit::read_cifar_class_names(path, layout);
      if (static_cast<std::int64_t>(names.size()) != layout.num_classes) std::abort();
    });
  }
  return 0;
}
