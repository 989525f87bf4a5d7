#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "cnnkit/config/config.h"
#include "cnnkit/core/error.h"
#include "cnnkit/data/dataset.h"
#include "cnnkit/data/idx.h"
#include "data/fixtures.h"
#include "support/cli.h"

using namespace cnnkit;
using namespace cnnkit::test;


TEST(DataIdx, ReadsRawAndGzipIdentically) {
  TempDir dir("idx");
  write_file(dir.path() / "a-images-idx3-ubyte", idx_images_bytes(5, 4, 3));
  write_file(dir.path() / "b-images-idx3-ubyte.gz", idx_images_bytes(5, 4, 3), true);
  auto raw = read_idx_images(dir.str("a-images-idx3-ubyte"));
  auto gz = read_idx_images(dir.str("b-images-idx3-ubyte.gz"));
  ASSERT_EQ(raw.sizes(), (std::vector<std::int64_t>{5, 1, 4, 3}));
  EXPECT_TRUE(raw.equal(gz));
  EXPECT_EQ(raw[3][0][2][1].item<int>(), fixture_pixel(3, 0, 2, 1));
  write_file(dir.path() / "l.gz", idx_labels_bytes({3, 1, 4, 1, 5}), true);
  auto labels = read_idx_labels(dir.str("l.gz"), 10);
  EXPECT_EQ(labels.scalar_type(), torch::kInt64);
  EXPECT_EQ(labels[2].item<std::int64_t>(), 4);
}

TEST(DataIdx, WrongMagicNamesFileAndOffset) {
  TempDir dir("idx");
  std::string bytes = idx_images_bytes(2, 4, 4);
  bytes[2] = 0x0d;  // float data
  write_file(dir.path() / "f", bytes);
  std::string e = message_of([&] { read_idx_images(dir.str("f")); });
  EXPECT_NE(e.find(dir.str("f") + ": not an IDX image file: magic number 0x00000d03 at byte 0, expected 0x00000803"),
            std::string::npos)
      << e;
  write_file(dir.path() / "text", "hello world, not idx");
  e = message_of([&] { read_idx_images(dir.str("text")); });
  EXPECT_NE(e.find("not an IDX image file"), std::string::npos) << e;
}

TEST(DataIdx, WrongDimensions) {
  TempDir dir("idx");
  write_file(dir.path() / "labels-as-images", idx_labels_bytes({1, 2, 3}));
  std::string e = message_of([&] { read_idx_images(dir.str("labels-as-images")); });
  EXPECT_NE(e.find("wrong IDX dimensions for image: the header (byte 3) says 1, expected 3"), std::string::npos) << e;
  write_file(dir.path() / "images-as-labels", idx_images_bytes(1, 2, 2));
  e = message_of([&] { read_idx_labels(dir.str("images-as-labels"), 10); });
  EXPECT_NE(e.find("wrong IDX dimensions for label"), std::string::npos) << e;
}

TEST(DataIdx, TruncatedAndTrailingBytes) {
  TempDir dir("idx");
  std::string bytes = idx_images_bytes(10, 28, 28);
  write_file(dir.path() / "t.gz", bytes.substr(0, 1000), true);
  std::string e = message_of([&] { read_idx_images(dir.str("t.gz")); });
  EXPECT_NE(e.find(dir.str("t.gz") + ": truncated: expected 7856 bytes, got 1000"), std::string::npos) << e;
  write_file(dir.path() / "h", bytes.substr(0, 10));
  e = message_of([&] { read_idx_images(dir.str("h")); });
  EXPECT_NE(e.find("truncated: expected 16 header bytes, got 10"), std::string::npos) << e;
  write_file(dir.path() / "x", bytes + "abc");
  e = message_of([&] { read_idx_images(dir.str("x")); });
  EXPECT_NE(e.find("3 unexpected bytes after the 7856"), std::string::npos) << e;
}

TEST(DataIdx, CorruptGzip) {
  TempDir dir("idx");
  write_file(dir.path() / "c.gz", idx_images_bytes(50, 28, 28), true);
  std::string gz;
  {
    std::ifstream in(dir.path() / "c.gz", std::ios::binary);
    gz.assign(std::istreambuf_iterator<char>(in), {});
  }
  for (std::size_t i = 40; i < gz.size() - 40; i += 7) gz[i] = static_cast<char>(gz[i] ^ 0x5a);
  write_file(dir.path() / "c.gz", gz);
  std::string e = message_of([&] { read_idx_images(dir.str("c.gz")); });
  EXPECT_EQ(e.rfind(dir.str("c.gz") + ": ", 0), 0u) << e;
}

TEST(DataIdx, LabelOutOfRangeNamesRecord) {
  TempDir dir("idx");
  std::vector<int> labels(20, 1);
  labels[17] = 12;
  write_file(dir.path() / "train-labels-idx1-ubyte", idx_labels_bytes(labels));
  std::string e = message_of([&] { read_idx_labels(dir.str("train-labels-idx1-ubyte"), 10); });
  EXPECT_NE(e.find("train-labels-idx1-ubyte: record 17 (byte offset 25): label 12 out of range 0..9"),
            std::string::npos)
      << e;
}

TEST(DataIdx, FindsGzAndDottedNames) {
  TempDir dir("idx");
  write_file(dir.path() / "train-images.idx3-ubyte", "x");
  write_file(dir.path() / "t10k-images-idx3-ubyte.gz", "x");
  EXPECT_EQ(find_idx_file(dir.str(), "train-images-idx3-ubyte"), dir.str("train-images.idx3-ubyte"));
  EXPECT_EQ(find_idx_file(dir.str(), "t10k-images-idx3-ubyte"), dir.str("t10k-images-idx3-ubyte.gz"));
  std::string e = message_of([&] { find_idx_file(dir.str(), "t10k-labels-idx1-ubyte"); });
  EXPECT_EQ(e, dir.str("t10k-labels-idx1-ubyte") + "[.gz]: file not found");
}

TEST(DataIdx, LoadDatasetsChecksCountsAndConverts) {
  TempDir dir("idx");
  write_mnist(dir.path() / "m", 50, 20);
  std::string cfg = write_config(dir.path(), R"({"source": "mnist", "root": ")" + dir.str("m") + R"("})", 1, 28, 28);
  Datasets d = load_datasets(load_config(cfg), {});
  EXPECT_EQ(d.train.size(), 50);
  EXPECT_EQ(d.test.size(), 20);
  EXPECT_EQ(d.class_names[3], "3");
  EXPECT_EQ(d.description["splits"]["train"]["per_class"][0], 5);
  // 3 channels at 32x32: gray replicated, resized.
  std::string cfg3 = write_config(dir.path(), R"({"source": "mnist", "root": ")" + dir.str("m") + R"("})", 3, 32, 32,
                                  10, "rgb.json");
  Datasets d3 = load_datasets(load_config(cfg3), {});
  EXPECT_EQ(d3.train.images.sizes(), (std::vector<std::int64_t>{50, 3, 32, 32}));
  EXPECT_TRUE(d3.train.images.select(1, 0).equal(d3.train.images.select(1, 2)));
  EXPECT_EQ(d3.description["conversions"].size(), 2u);
  // A label file with fewer records than the image file.
  write_file(dir.path() / "m" / "t10k-labels-idx1-ubyte.gz", idx_labels_bytes(std::vector<int>(19, 0)), true);
  std::string e = message_of([&] { load_datasets(load_config(cfg), {}); });
  EXPECT_NE(e.find("t10k-labels-idx1-ubyte.gz: 19 labels but "), std::string::npos) << e;
  EXPECT_NE(e.find("t10k-images-idx3-ubyte.gz has 20 images"), std::string::npos) << e;
}

TEST(DataIdx, MissingFilesAndRoot) {
  TempDir dir("idx");
  write_mnist(dir.path() / "m", 10, 10);
  std::filesystem::remove(dir.path() / "m" / "train-labels-idx1-ubyte.gz");
  std::string cfg = write_config(dir.path(), R"({"source": "mnist", "root": ")" + dir.str("m") + R"("})", 1, 28, 28);
  std::string e = message_of([&] { load_datasets(load_config(cfg), {}); });
  EXPECT_EQ(e, dir.str("m") + "/train-labels-idx1-ubyte[.gz]: file not found");
  DataLoadOptions o;
  o.data_root = dir.str("nowhere");
  e = message_of([&] { load_datasets(load_config(cfg), o); });
  EXPECT_NE(e.find(dir.str("nowhere") + ": data folder not found (root from --data-root"), std::string::npos) << e;
}

// ---------------------------------------------------------------------------------------------
// Hostile headers and files that are not regular files: an error naming the file and the
// header field before anything large is allocated, never a hang.

TEST(DataIdx, AbsurdHeaderSizesAreRefusedBeforeAllocating) {
  TempDir dir("idx");
  auto header = [](std::uint32_t n, std::uint32_t h, std::uint32_t w) {
    std::string b = {0, 0, 8, 3};
    for (std::uint32_t v : {n, h, w})
      for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<char>((v >> s) & 0xff));
    return b;
  };
  // The product overflows 64 bits.
  write_file(dir.path() / "overflow", header(0xffffffffu, 65535, 65535));
  EXPECT_EQ(message_of([&] { read_idx_images(dir.str("overflow")); }),
            dir.str("overflow") +
                ": the header (bytes 4-15: 4294967295 × 65535 × 65535) announces more data than 64-bit sizes can count");
  // Terabytes in a raw file of 20 bytes: the file size says it is truncated.
  write_file(dir.path() / "tera", header(0xffffffffu, 1000, 1000) + "abcd");
  EXPECT_EQ(message_of([&] { read_idx_images(dir.str("tera")); }),
            dir.str("tera") + ": truncated: expected 4294967295000016 bytes, got 20 (the header (bytes 4-15: "
                              "4294967295 × 1000 × 1000) announces 4294967295000000 data bytes)");
  // The same behind gzip: more than any gzip file of that size can hold.
  write_file(dir.path() / "tera.gz", header(0xffffffffu, 1000, 1000) + "abcd", true);
  std::string e = message_of([&] { read_idx_images(dir.str("tera.gz")); });
  EXPECT_EQ(e.rfind(dir.str("tera.gz") + ": corrupt or truncated: the header (bytes 4-15: 4294967295 × 1000 × 1000) "
                                         "announces 4294967295000000 data bytes, more than a gzip file of ",
                    0),
            0u)
      << e;
  // Labels: 4 billion records announced in a 9-byte file.
  write_file(dir.path() / "labels", std::string{0, 0, 8, 1, '\xff', '\xff', '\xff', '\xff', 3});
  e = message_of([&] { read_idx_labels(dir.str("labels"), 10); });
  EXPECT_EQ(e.rfind(dir.str("labels") + ": truncated: expected 4294967303 bytes, got 9", 0), 0u) << e;
}

TEST(DataIdx, FilesThatAreNotRegularFiles) {
  TempDir dir("idx");
  ASSERT_EQ(::mkfifo(dir.str("train-images-idx3-ubyte").c_str(), 0600), 0);
  // find_idx_file hands the FIFO to the reader, which refuses it without waiting for a writer.
  const std::string found = find_idx_file(dir.str(), "train-images-idx3-ubyte");
  EXPECT_EQ(message_of([&] { read_idx_images(found); }),
            dir.str("train-images-idx3-ubyte") + ": is a named pipe (FIFO), expected a file");
  EXPECT_EQ(message_of([] { read_idx_images("/dev/zero"); }), "/dev/zero: is a character device, expected a file");
  std::filesystem::create_symlink(dir.path() / "nowhere", dir.path() / "t10k-labels-idx1-ubyte.gz");
  std::string e = message_of([&] { read_idx_labels(find_idx_file(dir.str(), "t10k-labels-idx1-ubyte"), 10); });
  EXPECT_EQ(e, dir.str("t10k-labels-idx1-ubyte.gz") + ": cannot read file: dangling symbolic link to '" +
                   dir.str("nowhere") + "' (its target does not exist)");
}
