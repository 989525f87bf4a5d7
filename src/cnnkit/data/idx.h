// MNIST-format IDX files (MNIST, Fashion-MNIST, KMNIST, ...), raw or gzip-compressed.
// Format: 2 zero bytes, a type byte (0x08 = unsigned byte), a dimension count, one big-endian
// uint32 per dimension, then the data. Images are idx3 [N, H, W]; labels idx1 [N].
// Every problem throws DataError naming the file and the byte offset or record.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

namespace cnnkit {

// uint8 [N, 1, H, W]. Reads straight into the tensor (one pass through zlib, no copies).
torch::Tensor read_idx_images(const std::string& path);
// int64 [N]; every label must lie in 0..num_classes-1.
torch::Tensor read_idx_labels(const std::string& path, std::int64_t num_classes);

// The canonical MNIST file names for a split ("train" or "t10k"): {images, labels}.
std::vector<std::string> mnist_file_names(const std::string& split);
// `root/name`, or `root/name.gz`, or the dotted variant (`train-images.idx3-ubyte`) that some
// mirrors use. Throws DataError "ROOT/NAME[.gz]: file not found" when none exists.
std::string find_idx_file(const std::string& root, const std::string& name);

}  // namespace cnnkit
