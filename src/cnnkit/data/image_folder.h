// Image-folder datasets: DIR/<class>/*.{png,jpg,jpeg,bmp} (extensions in any case). Class
// names are the sub-folder names, sorted (byte order); label i is the i-th name. Hidden files
// and other extensions are ignored. Images are decoded with OpenCV in parallel, converted to
// the model's channel count and resized to its input size (or rejected when resizing is off).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cnnkit/data/dataset.h"
#include "cnnkit/io/image_io.h"

namespace cnnkit {

struct FolderScan {
  std::string dir;
  std::vector<std::string> class_names;  // of this folder, sorted
  std::vector<std::string> files;        // sorted by class, then by path
  std::vector<std::int64_t> labels;      // index into the class list passed to scan_image_folder
  std::vector<std::string> broken_links; // dangling symbolic links and link loops, skipped (warned)
};

// Lists DIR. With `classes` empty, the class list is DIR's sub-folders; otherwise every
// sub-folder of DIR must be one of `classes` (a test folder checked against the training
// classes) and labels index into `classes`. Throws DataError for a missing folder, a folder
// without class sub-folders, or a class folder without images. Dangling symbolic links (and
// link loops) among the class folders and images are skipped with a warning; other entries
// that are not regular files (FIFOs, devices) are listed and refused by read_image, unread.
FolderScan scan_image_folder(const std::string& dir, const std::vector<std::string>& classes = {});

// The files (and labels) that stratified_limit(set, n, seed) (data/split.h) would keep of the
// decoded folder, chosen from the file list alone, so that a `limit_*` subset decodes only the
// images it keeps. n <= 0 or n >= the file count keeps everything.
FolderScan limit_scan(const FolderScan& scan, std::int64_t n, std::int64_t seed);

struct FolderLoadOptions {
  int channels = 3;
  ImageSize size;            // the model's input size
  bool resize = true;        // false: an image of another size is an error
  bool skip_bad = false;     // true: corrupt images are skipped with a warning
  int threads = 0;           // 0: torch::get_num_threads()
};

struct FolderLoadResult {
  ImageSet set;
  std::vector<std::string> skipped;  // files skipped as unreadable
  std::int64_t resized = 0;          // images whose size differed from the input
};

FolderLoadResult load_image_folder(const FolderScan& scan, const FolderLoadOptions& options);

bool is_image_file_name(const std::string& name);

}  // namespace cnnkit
