#include <gtest/gtest.h>

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
    EXPECT_EQ(std::string(e.what()), dir.str("bad.jpg") + ": cannot decode image (corrupt, truncated or not an image)");
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
