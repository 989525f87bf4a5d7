#include <gtest/gtest.h>
#include <sys/stat.h>

#include "cnnkit/config/config.h"
#include "cnnkit/core/error.h"
#include "cnnkit/data/cifar.h"
#include "data/fixtures.h"
#include "support/cli.h"

using namespace cnnkit;
using namespace cnnkit::test;

namespace {
std::string cifar_config(const TempDir& dir, const std::string& root, int channels = 3, int size = 32) {
  return write_config(dir.path(), R"({"source": "cifar10", "root": ")" + root + R"("})", channels, size, size);
}
}  // namespace

TEST(DataCifar, LoadsBatchesInOrderWithPixelsInPlace) {
  TempDir dir("cifar");
  write_cifar10(dir.path() / "c", 4, 6);
  Datasets d = load_datasets(load_config(cifar_config(dir, dir.str("c"))), {});
  ASSERT_EQ(d.train.size(), 20);
  ASSERT_EQ(d.test.size(), 6);
  EXPECT_EQ(d.train.images.sizes(), (std::vector<std::int64_t>{20, 3, 32, 32}));
  EXPECT_EQ(d.class_names.front(), "airplane");
  EXPECT_EQ(d.class_names.back(), "truck");
  // Record 13 sits in data_batch_4 at position 1; R, G and B planes in order.
  for (int c = 0; c < 3; ++c) EXPECT_EQ(d.train.images[13][c][5][9].item<int>(), fixture_pixel(13, c, 5, 9));
  EXPECT_EQ(d.train.labels[13].item<std::int64_t>(), 3);
  EXPECT_EQ(d.description["files"].size(), 7u);
}

TEST(DataCifar, SizeNotAMultipleOfTheRecord) {
  TempDir dir("cifar");
  write_cifar10(dir.path() / "c", 10, 2);
  std::string bytes = cifar_record(0, 1) + cifar_record(1, 2) + cifar_record(2, 3).substr(0, 3073 - 3058);
  write_file(dir.path() / "c" / "data_batch_1.bin", bytes);
  std::string e = message_of([&] { load_datasets(load_config(cifar_config(dir, dir.str("c"))), {}); });
  EXPECT_NE(e.find("data_batch_1.bin: size 6161 is not a multiple of the 3073-byte record"), std::string::npos) << e;
  EXPECT_NE(e.find("the last record starts at byte 6146"), std::string::npos) << e;
}

TEST(DataCifar, LabelOutOfRange) {
  TempDir dir("cifar");
  write_cifar10(dir.path() / "c", 3, 3);
  write_file(dir.path() / "c" / "test_batch.bin", cifar_record(0, 1) + cifar_record(1, 10) + cifar_record(2, 0));
  std::string e = message_of([&] { load_datasets(load_config(cifar_config(dir, dir.str("c"))), {}); });
  EXPECT_NE(e.find("test_batch.bin: record 1 (byte offset 3073): label 10 out of range 0..9"), std::string::npos) << e;
}

TEST(DataCifar, MissingBatchAndMissingMeta) {
  TempDir dir("cifar");
  write_cifar10(dir.path() / "c", 2, 2, /*meta=*/false);
  Datasets d = load_datasets(load_config(cifar_config(dir, dir.str("c"))), {});  // standard names, a warning
  EXPECT_EQ(d.class_names[1], "automobile");
  std::filesystem::remove(dir.path() / "c" / "data_batch_3.bin");
  std::string e = message_of([&] { load_datasets(load_config(cifar_config(dir, dir.str("c"))), {}); });
  EXPECT_EQ(e, dir.str("c") + "/data_batch_3.bin: file not found");
  write_file(dir.path() / "c" / "batches.meta.txt", "a\nb\n");
  e = message_of([&] {
    read_cifar_class_names(dir.str("c") + "/batches.meta.txt", cifar_layout("cifar10"));
  });
  EXPECT_NE(e.find("batches.meta.txt: expected 10 class names (one per line), found 2"), std::string::npos) << e;
}

TEST(DataCifar, GrayModelGetsLuma) {
  TempDir dir("cifar");
  write_cifar10(dir.path() / "c", 2, 2);
  Datasets d = load_datasets(load_config(cifar_config(dir, dir.str("c"), 1, 32)), {});
  ASSERT_EQ(d.train.images.size(1), 1);
  const double want = 0.299 * fixture_pixel(4, 0, 7, 7) + 0.587 * fixture_pixel(4, 1, 7, 7) + 0.114 * fixture_pixel(4, 2, 7, 7);
  EXPECT_NEAR(d.train.images[4][0][7][7].item<int>(), want, 0.51);
}

TEST(DataCifar, Cifar100FineLabels) {
  TempDir dir("cifar");
  std::string train, test;
  for (int i = 0; i < 8; ++i) train += cifar_record(i, 90 + i % 10, 2);
  for (int i = 0; i < 3; ++i) test += cifar_record(i, i, 2);
  write_file(dir.path() / "c" / "train.bin", train);
  write_file(dir.path() / "c" / "test.bin", test);
  std::string names;
  for (int i = 0; i < 100; ++i) names += "n" + std::to_string(i) + "\n";
  write_file(dir.path() / "c" / "fine_label_names.txt", names);
  std::string cfg = write_config(dir.path(), R"({"source": "cifar100", "root": ")" + dir.str("c") + R"("})", 3, 32, 32, 100);
  Datasets d = load_datasets(load_config(cfg), {});
  EXPECT_EQ(d.train.size(), 8);
  EXPECT_EQ(d.train.labels[5].item<std::int64_t>(), 95);
  EXPECT_EQ(d.class_names[95], "n95");
  EXPECT_EQ(d.train.images[5][2][0][1].item<int>(), fixture_pixel(5, 2, 0, 1));
  write_file(dir.path() / "c" / "test.bin", test + "x");
  std::string e = message_of([&] { load_datasets(load_config(cfg), {}); });
  EXPECT_NE(e.find("test.bin: size 9223 is not a multiple of the 3074-byte record"), std::string::npos) << e;
}

TEST(DataCifar, FilesThatAreNotRegularFilesNeverBlock) {
  TempDir dir("cifar");
  write_cifar10(dir.path() / "c", 2, 2);
  const std::string batch = dir.str("c") + "/data_batch_2.bin";
  std::filesystem::remove(batch);
  ASSERT_EQ(::mkfifo(batch.c_str(), 0600), 0);
  EXPECT_EQ(message_of([&] { load_datasets(load_config(cifar_config(dir, dir.str("c"))), {}); }),
            batch + ": is a named pipe (FIFO), expected a file");
  EXPECT_EQ(message_of([] { read_cifar_files({"/dev/zero"}, cifar_layout("cifar10")); }),
            "/dev/zero: is a character device, expected a file");
  // A class-name file that is a FIFO is an error, not "missing" (which would warn and go on).
  const std::string names = dir.str("c") + "/batches.meta.txt";
  std::filesystem::remove(names);
  ASSERT_EQ(::mkfifo(names.c_str(), 0600), 0);
  EXPECT_EQ(message_of([&] { read_cifar_class_names(names, cifar_layout("cifar10")); }),
            names + ": is a named pipe (FIFO), expected a class-name file");
}
