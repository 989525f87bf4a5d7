// CIFAR-10 and CIFAR-100 "binary version" files, as downloaded from the dataset's home page.
// CIFAR-10: data_batch_1..5.bin and test_batch.bin, records of 1 label byte + 1024 R + 1024 G +
// 1024 B bytes (3073); class names in batches.meta.txt. CIFAR-100: train.bin and test.bin,
// records of a coarse and a fine label byte + 3072 pixel bytes (3074); cnnkit uses the fine
// labels, names in fine_label_names.txt.
#pragma once
#include <string>
#include <vector>

#include "cnnkit/data/dataset.h"

namespace cnnkit {

struct CifarLayout {
  std::vector<std::string> train_files, test_files;
  std::string names_file;
  std::int64_t label_bytes;  // bytes before the pixels; the label used is the last of them
  std::int64_t num_classes;
  std::vector<std::string> default_names;  // when names_file is absent
};

CifarLayout cifar_layout(const std::string& source);  // "cifar10" | "cifar100"

// Reads and concatenates record files: images uint8 [N, 3, 32, 32], labels int64 [N].
// Missing file, a size that is not a multiple of the record, or a label out of range throw
// DataError naming the file (and record).
ImageSet read_cifar_files(const std::vector<std::string>& paths, const CifarLayout& layout);
// Class names from the names file (one per line, blank lines ignored); the layout's defaults
// with a warning when the file is absent.
std::vector<std::string> read_cifar_class_names(const std::string& path, const CifarLayout& layout);

}  // namespace cnnkit
