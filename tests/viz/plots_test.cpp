// The pictures a learner reads first: training curves and the confusion matrix. Checked for
// their size, for labels actually drawn (ink in the label bands), and for legends that never
// cover the plotted data.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <array>
#include <cmath>

#include "cnnkit/core/error.h"
#include "cnnkit/io/image_io.h"
#include "cnnkit/viz/confusion_plot.h"
#include "cnnkit/viz/training_curves.h"
#include "support/cli.h"

using namespace cnnkit;
using namespace cnnkit::test;
using nlohmann::json;

namespace {

// Pixels in `box` that differ from `background` (RGB image [3, H, W]).
std::int64_t ink(const torch::Tensor& img, const PixelBox& box, int background) {
  auto region = img.slice(1, box.y, box.y + box.height).slice(2, box.x, box.x + box.width).to(torch::kInt32);
  return (region - background).abs().amax(0).gt(40).sum().item<std::int64_t>();
}

// Pixels of colour `rgb` (within a small tolerance) at (x, y).
bool has_color(const at::TensorAccessor<std::uint8_t, 3>& img, int x, int y, std::array<int, 3> rgb) {
  for (int c = 0; c < 3; ++c)
    if (std::abs(static_cast<int>(img[c][y][x]) - rgb[c]) > 12) return false;
  return true;
}

json rows(int epochs) {
  json r = json::array();
  for (int e = 1; e <= epochs; ++e)
    r.push_back({{"epoch", e}, {"train_loss", 1.0 / e}, {"train_accuracy", 0.6 + 0.03 * e},
                 {"val_loss", 1.1 / e + 0.01 * e}, {"val_accuracy", e == 2 ? 0.9 : 0.7}, {"lr", 1e-3 / e}});
  return r;
}

std::vector<StepRow> steps(int epochs, int per_epoch) {
  std::vector<StepRow> s;
  for (int i = 1; i <= epochs * per_epoch; ++i) {
    const double ep = static_cast<double>(i) / per_epoch;
    s.push_back({i, ep, 64, 2.3 * std::exp(-ep) + 0.05 * std::sin(i), 0.1 + 0.8 * (1 - std::exp(-2 * ep)), 1e-3});
  }
  return s;
}

}  // namespace

TEST(TrainingCurves, ThreePanelsLabelledWithLegendsOffTheData) {
  if (!image_io_available()) GTEST_SKIP() << "built without OpenCV";
  const CurvesFigure f = render_training_curves(rows(3), steps(3, 50), "tiny");
  ASSERT_EQ(f.image.sizes(), (std::vector<std::int64_t>{3, 430, 1260}));
  ASSERT_EQ(f.plots.size(), 3u);
  ASSERT_EQ(f.legends.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_FALSE(f.legends[i].intersects(f.plots[i])) << "panel " << i;
    EXPECT_GT(ink(f.image, f.x_tick_bands[i], 255), 30) << "x tick labels of panel " << i;
    EXPECT_GT(ink(f.image, f.y_tick_bands[i], 255), 30) << "y tick labels of panel " << i;
  }
  EXPECT_GT(ink(f.image, f.legends[0], 255), 100);  // loss legend: entries drawn
  // Series colours (validation orange, smoothed train blue) appear only inside plots and legends.
  const std::array<int, 3> orange{255, 127, 14}, blue{31, 119, 180};
  int inside = 0;
  auto px = f.image.accessor<std::uint8_t, 3>();
  for (int y = 0; y < f.image.size(1); y += 2) {
    for (int x = 0; x < f.image.size(2); x += 2) {
      if (!has_color(px, x, y, orange) && !has_color(px, x, y, blue)) continue;
      bool ok = false;
      for (std::size_t i = 0; i < 3; ++i) ok |= f.plots[i].contains(x, y) || f.legends[i].contains(x, y);
      EXPECT_TRUE(ok) << "series colour outside plots and legends at " << x << "," << y;
      if (ok) ++inside;
      if (!ok) return;
    }
  }
  EXPECT_GT(inside, 50);
}

TEST(TrainingCurves, OneEpochRunWithoutStepsStillDraws) {
  if (!image_io_available()) GTEST_SKIP() << "built without OpenCV";
  const CurvesFigure f = render_training_curves(rows(1), {}, "tiny");
  EXPECT_EQ(f.image.size(2), 1260);
  EXPECT_GT(ink(f.image, f.x_tick_bands[0], 255), 30);
  TempDir dir;
  write_training_curves(dir.str("curves.png"), rows(1), steps(1, 20), "tiny");
  EXPECT_EQ(read_image(dir.str("curves.png"), 3).sizes(), f.image.sizes());
}

TEST(ConfusionPlot, LabelledAxesColourBarAndNoBlankMargins) {
  if (!image_io_available()) GTEST_SKIP() << "built without OpenCV";
  auto c = torch::tensor({{50, 3, 0}, {10, 35, 5}, {0, 2, 48}}, torch::kInt64);
  ConfusionOptions o;
  o.title = "tiny: test split";
  const ConfusionFigure f = render_confusion(c, {"cat", "dog", "bird"}, o);
  EXPECT_FALSE(f.columns_turned);  // short names fit the cells
  EXPECT_GT(ink(f.image, f.row_labels, 255), 30);
  EXPECT_GT(ink(f.image, f.column_labels, 255), 30);
  EXPECT_GT(ink(f.image, f.colorbar, 255), 100);
  EXPECT_FALSE(f.colorbar.intersects(f.matrix));
  // No large blank margins: the picture ends a little after the matrix and its labels.
  const int w = static_cast<int>(f.image.size(2)), h = static_cast<int>(f.image.size(1));
  EXPECT_LT(h - (f.column_labels.y + f.column_labels.height), 60);
  EXPECT_LT(w - (f.colorbar.x + f.colorbar.width), 120);
  EXPECT_LT(f.row_labels.x, 50);
  // Row-normalised: the darkest cell is a full row share; counts: the largest count.
  o.normalize = true;
  const ConfusionFigure n = render_confusion(c, {"cat", "dog", "bird"}, o);
  EXPECT_FALSE(n.colorbar.intersects(n.matrix));
  EXPECT_GT(ink(n.image, n.colorbar, 255), 100);
}

TEST(ConfusionPlot, LongNamesTurnWhenTheyDoNotFit) {
  if (!image_io_available()) GTEST_SKIP() << "built without OpenCV";
  std::vector<std::string> names;
  for (int i = 0; i < 20; ++i) names.push_back(i == 3 ? "a rather long class name" : "class " + std::to_string(i));
  auto c = torch::eye(20, torch::kInt64) * 5;
  const ConfusionFigure f = render_confusion(c, names, ConfusionOptions{});
  EXPECT_TRUE(f.columns_turned);
  EXPECT_GT(ink(f.image, f.column_labels, 255), 100);
  EXPECT_THROW(render_confusion(torch::zeros({2, 3}, torch::kInt64), {}, ConfusionOptions{}), ImageIOError);
}
