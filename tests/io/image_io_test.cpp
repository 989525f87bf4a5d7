#include <gtest/gtest.h>
#include <sys/stat.h>

#include <opencv2/imgcodecs.hpp>

#include <fstream>

#include "cnnkit/core/error.h"
#include "cnnkit/io/image_io.h"
#include "support/cli.h"

using namespace cnnkit;
using namespace cnnkit::test;

TEST(IoImage, PngRoundTripKeepsRgbOrder) {
  if (!image_io_available()) GTEST_SKIP() << "built without OpenCV";
  TempDir dir("io");
  auto img = torch::randint(0, 256, {3, 7, 5}, torch::kInt64).to(torch::kUInt8);
  img[0][0][0] = 255;
  img[1][0][0] = 0;
  img[2][0][0] = 0;  // pure red top-left pixel
  write_png(dir.str("a.png"), img);
  auto back = read_image(dir.str("a.png"), 3);
  EXPECT_TRUE(back.equal(img));
  auto gray = read_image(dir.str("a.png"), 1);
  EXPECT_EQ(gray.sizes(), (std::vector<std::int64_t>{1, 7, 5}));
  EXPECT_NEAR(gray[0][0][0].item<int>(), 0.299 * 255, 1.0);  // luma of pure red
  auto g1 = torch::full({1, 4, 4}, 77, torch::kUInt8);
  write_png(dir.str("g.png"), g1);
  auto rgb = read_image(dir.str("g.png"), 3);
  EXPECT_TRUE(rgb.equal(g1.expand({3, 4, 4})));
}

TEST(IoImage, ResizeReportsOriginalSize) {
  if (!image_io_available()) GTEST_SKIP() << "built without OpenCV";
  TempDir dir("io");
  write_png(dir.str("b.png"), torch::full({3, 20, 10}, 9, torch::kUInt8));
  ImageSize original;
  auto img = read_image(dir.str("b.png"), 3, ImageSize{8, 6}, &original);
  EXPECT_EQ(img.sizes(), (std::vector<std::int64_t>{3, 8, 6}));
  EXPECT_EQ(original.height, 20);
  EXPECT_EQ(original.width, 10);
  EXPECT_EQ(img[1][4][3].item<int>(), 9);
  EXPECT_EQ(resize_image(img, ImageSize{16, 12}).sizes(), (std::vector<std::int64_t>{3, 16, 12}));
}

TEST(IoImage, ErrorsNameTheFile) {
  if (!image_io_available()) GTEST_SKIP() << "built without OpenCV";
  TempDir dir("io");
  std::ofstream(dir.str("bad.jpg")) << "not a jpeg";
  try {
    read_image(dir.str("bad.jpg"), 3);
    FAIL();
  } catch (const ImageIOError& e) {
    EXPECT_EQ(std::string(e.what()), dir.str("bad.jpg") + ": cannot decode image: not a PNG, JPEG, BMP or PNM image "
                                                          "(cnnkit reads only these formats)");
  }
  EXPECT_THROW(read_image(dir.str("none.png"), 3), ImageIOError);
  EXPECT_THROW(write_png(dir.str("x.png"), torch::zeros({2, 4, 4}, torch::kUInt8)), ImageIOError);
  EXPECT_THROW(write_png(dir.str("no/such/dir/x.png"), torch::zeros({1, 4, 4}, torch::kUInt8)), ImageIOError);
}

TEST(IoImage, GridTilesLabelsAndTitle) {
  if (!image_io_available()) GTEST_SKIP() << "built without OpenCV";
  auto images = torch::full({5, 1, 10, 10}, 200, torch::kUInt8);
  GridOptions o;
  o.columns = 3;
  o.scale = 2;
  o.padding = 2;
  auto plain = make_grid(images, {}, o);
  EXPECT_EQ(plain.sizes(), (std::vector<std::int64_t>{3, 2 + 2 * (20 + 2), 2 + 3 * (20 + 2)}));
  EXPECT_EQ(plain[0][2][2].item<int>(), 200);  // first tile's corner
  EXPECT_EQ(plain[0][0][0].item<int>(), o.background);
  o.title = "five images";
  auto labelled = make_grid(images, {"a", "b", "c", "d", "a very long label"}, o);
  EXPECT_GT(labelled.size(1), plain.size(1));
  EXPECT_GE(labelled.size(2), plain.size(2));
  EXPECT_THROW(make_grid(images, {"only one"}, o), ImageIOError);
}

// ---------------------------------------------------------------------------------------------
// Damaged, truncated, absurd and odd image files (io/image_header.h): refused with the file
// named, before OpenCV decodes (or allocates for) anything.

namespace {

std::string encoded(const std::string& ext, int h, int w, int type = CV_8UC3) {
  cv::Mat m(h, w, type);
  cv::randu(m, 0, 255);
  std::vector<uchar> bytes;
  cv::imencode(ext, m, bytes);
  return std::string(bytes.begin(), bytes.end());
}

std::string read_error(const std::string& path, int channels = 3) {
  try {
    read_image(path, channels);
  } catch (const ImageIOError& e) {
    return e.what();
  }
  return "<no error>";
}

void put_be32(std::string& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<char>((v >> (24 - 8 * i)) & 0xff);
}

}  // namespace

TEST(IoImage, TruncatedJpegIsAnErrorNotAGreyImage) {
  if (!image_io_available()) GTEST_SKIP() << "built without OpenCV";
  TempDir dir("io");
  const std::string jpg = encoded(".jpg", 32, 32);
  std::ofstream(dir.str("ok.jpg"), std::ios::binary) << jpg;
  EXPECT_EQ(read_error(dir.str("ok.jpg")), "<no error>");
  // libjpeg only warns about a cut file and returns it padded with grey: cnnkit refuses it.
  std::ofstream(dir.str("cut.jpg"), std::ios::binary) << jpg.substr(0, jpg.size() * 2 / 3);
  EXPECT_EQ(read_error(dir.str("cut.jpg")),
            dir.str("cut.jpg") + ": cannot decode image: truncated JPEG: the data ends at byte " +
                std::to_string(jpg.size() * 2 / 3) + " without its end-of-image marker");
}

TEST(IoImage, AbsurdDimensionsAreRefusedFromTheHeader) {
  if (!image_io_available()) GTEST_SKIP() << "built without OpenCV";
  TempDir dir("io");
  std::string png = encoded(".png", 4, 4);
  put_be32(png, 16, 100000);  // IHDR width
  put_be32(png, 20, 100000);  // IHDR height
  std::ofstream(dir.str("huge.png"), std::ios::binary) << png;
  std::string e = read_error(dir.str("huge.png"));
  EXPECT_EQ(e.rfind(dir.str("huge.png") + ": cannot decode image: truncated or corrupt PNG: a file of ", 0), 0u) << e;
  EXPECT_NE(e.find("cannot hold the 100000×100000 pixels its header (IHDR, byte 16) announces"), std::string::npos) << e;
  // Within what the file could hold, yet beyond the pixel limit.
  std::ofstream(dir.str("big.png"), std::ios::binary) << encoded(".png", 20, 20);
  set_max_image_pixels(100);
  EXPECT_EQ(read_error(dir.str("big.png")),
            dir.str("big.png") + ": cannot decode image: PNG of 20×20 pixels, more than the 100 pixels cnnkit reads");
  set_max_image_pixels(0);
  EXPECT_EQ(max_image_pixels(), kMaxImagePixels);
}

TEST(IoImage, TruncatedBmpAndOtherFormats) {
  if (!image_io_available()) GTEST_SKIP() << "built without OpenCV";
  TempDir dir("io");
  const std::string bmp = encoded(".bmp", 10, 10);
  std::ofstream(dir.str("cut.bmp"), std::ios::binary) << bmp.substr(0, bmp.size() - 40);
  EXPECT_EQ(read_error(dir.str("cut.bmp")), dir.str("cut.bmp") + ": cannot decode image: truncated BMP: 10×10 pixels at "
                                                                  "24 bits need " + std::to_string(bmp.size()) +
                                                " bytes, the file has " + std::to_string(bmp.size() - 40));
  // TIFF is a format OpenCV reads, but not one cnnkit hands it.
  std::ofstream(dir.str("x.tif"), std::ios::binary) << encoded(".tiff", 4, 4);
  EXPECT_EQ(read_error(dir.str("x.tif")),
            dir.str("x.tif") + ": cannot decode image: not a PNG, JPEG, BMP or PNM image (cnnkit reads only these formats)");
  std::ofstream(dir.str("empty.png"), std::ios::binary);
  EXPECT_EQ(read_error(dir.str("empty.png")), dir.str("empty.png") + ": cannot decode image: empty file, not an image");
  // PNM (the format tests and users write by hand) still reads.
  std::ofstream(dir.str("g.pgm"), std::ios::binary) << "P5\n# comment\n2 2\n255\n" << std::string("\x01\x02\x03\x04", 4);
  EXPECT_EQ(read_image(dir.str("g.pgm"), 1).flatten()[3].item<int>(), 4);
  std::ofstream(dir.str("short.pgm"), std::ios::binary) << "P5\n2 2\n255\n" << std::string("\x01\x02", 2);
  EXPECT_EQ(read_error(dir.str("short.pgm"), 1),
            dir.str("short.pgm") + ": cannot decode image: truncated PNM: 2×2 pixels need at least 4 bytes of data, the "
                                   "file has 2 after its header");
}

TEST(IoImage, ImagePathsThatAreNotRegularFiles) {
  if (!image_io_available()) GTEST_SKIP() << "built without OpenCV";
  TempDir dir("io");
  ASSERT_EQ(::mkfifo(dir.str("fifo.png").c_str(), 0600), 0);
  std::filesystem::create_symlink(dir.path() / "gone.png", dir.path() / "dangling.png");
  EXPECT_EQ(read_error(dir.str("fifo.png")), dir.str("fifo.png") + ": is a named pipe (FIFO), expected an image file");
  EXPECT_EQ(read_error("/dev/zero"), "/dev/zero: is a character device, expected an image file");
  EXPECT_EQ(read_error(dir.str()), dir.str() + ": is a directory, expected an image file");
  EXPECT_EQ(read_error(dir.str("dangling.png")), dir.str("dangling.png") + ": cannot read image file: dangling symbolic link to '" +
                                                     dir.str("gone.png") + "' (its target does not exist)");
  EXPECT_EQ(read_error(dir.str("none.png")), dir.str("none.png") + ": image file not found");
}
