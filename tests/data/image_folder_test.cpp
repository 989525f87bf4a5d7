#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "cnnkit/config/config.h"
#include "cnnkit/core/error.h"
#include "cnnkit/data/image_folder.h"
#include "cnnkit/data/split.h"
#include "data/fixtures.h"
#include "support/cli.h"

using namespace cnnkit;
using namespace cnnkit::test;
namespace fs = std::filesystem;

namespace {
std::string folder_config(const TempDir& dir, const std::string& extra = "", int channels = 3, int size = 8) {
  return write_config(dir.path(), R"({"source": "folder", "root": ")" + dir.str("imgs") + "\"" + extra + "}", channels,
                      size, size, 3);
}
}  // namespace

TEST(DataFolder, ClassesSortedAndPixelsExact) {
  if (!image_io_available()) GTEST_SKIP() << "built without OpenCV";
  TempDir dir("folder");
  // Written in unsorted order; labels follow the sorted names.
  write_image_folder(dir.path() / "imgs" / "train", {"zebra"}, 3, 8, 8);
  write_image_folder(dir.path() / "imgs" / "train", {"ant", "bee"}, 2, 8, 8);
  write_image_folder(dir.path() / "imgs" / "test", {"bee"}, 2, 8, 8);
  write_file(dir.path() / "imgs" / "train" / "ant" / "notes.txt", "ignored");
  write_file(dir.path() / "imgs" / "train" / "ant" / ".hidden.png", "ignored");
  Datasets d = load_datasets(load_config(folder_config(dir)), {});
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"ant", "bee", "zebra"}));
  ASSERT_EQ(d.train.size(), 7);
  std::vector<std::int64_t> labels(d.train.labels.data_ptr<std::int64_t>(), d.train.labels.data_ptr<std::int64_t>() + 7);
  EXPECT_EQ(labels, (std::vector<std::int64_t>{0, 0, 1, 1, 2, 2, 2}));
  EXPECT_EQ(d.test.size(), 2);
  EXPECT_EQ(d.test.labels[0].item<std::int64_t>(), 1);
  // ant/001.png was written second in its call (i = 1), RGB order.
  for (int c = 0; c < 3; ++c) EXPECT_EQ(d.train.images[1][c][3][4].item<int>(), fixture_pixel(1, c, 3, 4));
}

TEST(DataFolder, GrayJpegAndResize) {
  if (!image_io_available()) GTEST_SKIP() << "built without OpenCV";
  TempDir dir("folder");
  write_image_folder(dir.path() / "imgs" / "train", {"a", "b"}, 2, 16, 12, 3, "jpg");
  write_image_folder(dir.path() / "imgs" / "test", {"a"}, 1, 8, 8, 1, "bmp");
  Datasets d = load_datasets(load_config(folder_config(dir, "", 1, 8)), {});
  EXPECT_EQ(d.train.images.sizes(), (std::vector<std::int64_t>{4, 1, 8, 8}));
  EXPECT_EQ(d.description["resized_images"], 4);
  EXPECT_EQ(d.test.images[0][0][2][3].item<int>(), fixture_pixel(0, 0, 2, 3));
}

TEST(DataFolder, SizeMismatchWithResizeOff) {
  if (!image_io_available()) GTEST_SKIP() << "built without OpenCV";
  TempDir dir("folder");
  write_image_folder(dir.path() / "imgs" / "train", {"a"}, 2, 8, 8);
  write_image_folder(dir.path() / "imgs" / "train", {"b"}, 1, 9, 8);
  std::string e = message_of([&] { load_datasets(load_config(folder_config(dir, R"(, "resize": false)")), {}); });
  EXPECT_EQ(e, dir.str("imgs") + "/train/b/000.png: image is 9×8 but the model input is 8×8 and resizing is off "
                                 "(data.resize: false)");
}

TEST(DataFolder, EmptyClassFolderAndMissingFolders) {
  if (!image_io_available()) GTEST_SKIP() << "built without OpenCV";
  TempDir dir("folder");
  write_image_folder(dir.path() / "imgs" / "train", {"a"}, 2, 8, 8);
  fs::create_directories(dir.path() / "imgs" / "train" / "b");
  write_file(dir.path() / "imgs" / "train" / "b" / "readme.txt", "no images here");
  std::string e = message_of([&] { load_datasets(load_config(folder_config(dir)), {}); });
  EXPECT_EQ(e, dir.str("imgs") + "/train/b: class folder has no images (.png, .jpg, .jpeg, .bmp)");
  fs::remove_all(dir.path() / "imgs" / "train" / "b");
  e = message_of([&] { load_datasets(load_config(folder_config(dir)), {}); });
  EXPECT_EQ(e, dir.str("imgs") + "/test: image folder not found");
  // test_dir "" means no test split; a validation split instead.
  Datasets d = load_datasets(load_config(folder_config(dir, R"(, "test_dir": "", "validation_split": 0.5)")), {});
  EXPECT_EQ(d.train.size(), 1);
  EXPECT_EQ(d.validation.size(), 1);
  EXPECT_EQ(d.test.size(), 0);
  write_image_folder(dir.path() / "imgs" / "test", {"zz"}, 1, 8, 8);
  e = message_of([&] { load_datasets(load_config(folder_config(dir)), {}); });
  EXPECT_NE(e.find("/test/zz: class 'zz' is not among the training classes (a)"), std::string::npos) << e;
}

TEST(DataFolder, CorruptImageErrorsOrIsSkipped) {
  if (!image_io_available()) GTEST_SKIP() << "built without OpenCV";
  TempDir dir("folder");
  write_image_folder(dir.path() / "imgs" / "train", {"a", "b"}, 3, 8, 8);
  write_image_folder(dir.path() / "imgs" / "test", {"a"}, 1, 8, 8);
  write_file(dir.path() / "imgs" / "train" / "b" / "bad.png", "this is not a PNG");
  std::string e = message_of([&] { load_datasets(load_config(folder_config(dir)), {}); });
  EXPECT_EQ(e, dir.str("imgs") + "/train/b/bad.png: cannot decode image: not a PNG, JPEG, BMP or PNM image (cnnkit "
                                 "reads only these formats)");
  Datasets d = load_datasets(load_config(folder_config(dir, R"(, "on_bad_image": "skip")")), {});
  EXPECT_EQ(d.train.size(), 6);
  EXPECT_EQ(d.description["skipped_images"], 1);
  EXPECT_EQ(d.description["skipped_files"][0], dir.str("imgs") + "/train/b/bad.png");
  EXPECT_EQ(d.train.labels[5].item<std::int64_t>(), 1);
}

TEST(DataFolder, FourChannelModelIsRejected) {
  if (!image_io_available()) GTEST_SKIP() << "built without OpenCV";
  TempDir dir("folder");
  write_image_folder(dir.path() / "imgs" / "train", {"a"}, 1, 8, 8);
  std::string e = message_of([&] { load_datasets(load_config(folder_config(dir, "", 4)), {}); });
  EXPECT_NE(e.find("image folders give 1 (gray) or 3 (RGB) channels; the model input has 4"), std::string::npos) << e;
}

TEST(DataFolder, BrokenLinksAreSkippedWithAWarningOtherOddFilesAreErrors) {
  if (!image_io_available()) GTEST_SKIP() << "built without OpenCV";
  TempDir dir("folder");
  write_image_folder(dir.path() / "imgs" / "train", {"a", "b"}, 2, 8, 8);
  write_image_folder(dir.path() / "imgs" / "test", {"a"}, 1, 8, 8);
  const fs::path a = dir.path() / "imgs" / "train" / "a";
  fs::create_symlink(a / "gone.png", a / "dangling.png");
  fs::create_symlink(a / "loop2.png", a / "loop1.png");
  fs::create_symlink(a / "loop1.png", a / "loop2.png");
  fs::create_symlink(dir.path() / "no-such-class", dir.path() / "imgs" / "train" / "c");  // a dangling class folder
  FolderScan scan = scan_image_folder(dir.str("imgs") + "/train");
  EXPECT_EQ(scan.class_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(scan.files.size(), 4u);
  EXPECT_EQ(scan.broken_links.size(), 4u);
  Datasets d = load_datasets(load_config(folder_config(dir)), {});
  EXPECT_EQ(d.train.size(), 4);
  // A FIFO named like an image is listed and refused when read, without blocking.
  ASSERT_EQ(::mkfifo((a / "pipe.png").c_str(), 0600), 0);
  EXPECT_EQ(message_of([&] { load_datasets(load_config(folder_config(dir)), {}); }),
            (a / "pipe.png").string() + ": is a named pipe (FIFO), expected an image file");
}

TEST(DataFolder, LimitDecodesOnlyTheChosenSubsetAndPicksTheSameImages) {
  if (!image_io_available()) GTEST_SKIP() << "built without OpenCV";
  TempDir dir("folder");
  write_image_folder(dir.path() / "imgs" / "train", {"a", "b", "c"}, 6, 8, 8);
  write_image_folder(dir.path() / "imgs" / "test", {"a", "b"}, 4, 8, 8);
  // The subset the old path picked: stratified_limit over the whole decoded folder.
  Datasets all = load_datasets(load_config(folder_config(dir)), {});
  const ImageSet want_train = stratified_limit(all.train, 7, 42), want_test = stratified_limit(all.test, 3, 42);
  Datasets limited = load_datasets(
      load_config(folder_config(dir, R"(, "limit_train": 7, "limit_test": 3)")), {});
  ASSERT_EQ(limited.train.size(), 7);
  EXPECT_TRUE(torch::equal(limited.train.images, want_train.images));
  EXPECT_TRUE(torch::equal(limited.train.labels, want_train.labels));
  EXPECT_TRUE(torch::equal(limited.test.images, want_test.images));
  // Files the subset does not keep are never decoded: a corrupt one there is no error.
  const FolderScan scan = scan_image_folder(dir.str("imgs/train"));
  const FolderScan kept = limit_scan(scan, 7, 42);
  ASSERT_EQ(kept.files.size(), 7u);
  for (const auto& f : scan.files) {
    if (std::find(kept.files.begin(), kept.files.end(), f) != kept.files.end()) continue;
    write_file(f, "not an image any more");
  }
  Datasets again = load_datasets(load_config(folder_config(dir, R"(, "limit_train": 7, "limit_test": 3)")), {});
  EXPECT_TRUE(torch::equal(again.train.images, want_train.images));
  EXPECT_EQ(limit_scan(scan, 0, 42).files.size(), scan.files.size());
  EXPECT_EQ(limit_scan(scan, 100, 42).files.size(), scan.files.size());
}
