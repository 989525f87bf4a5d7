#include "cnnkit/viz/confusion_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "cnnkit/core/error.h"

#ifdef CNNKIT_WITH_OPENCV
#include <opencv2/imgproc.hpp>

#include "cnnkit/io/draw.h"
#endif

namespace cnnkit {

#ifdef CNNKIT_WITH_OPENCV
namespace {

using draw::Align;

const cv::Scalar kWhite(255, 255, 255), kInk(30, 30, 30), kLine(215, 215, 215);  // BGR

// matplotlib's "Blues", from white to dark blue (RGB stops), as a [256, 3] RGB table.
torch::Tensor blues_lut() {
  const double stops[3][3] = {{247, 251, 255}, {107, 174, 214}, {8, 48, 107}};
  auto lut = torch::empty({256, 3}, torch::kUInt8);
  auto a = lut.accessor<std::uint8_t, 2>();
  for (int i = 0; i < 256; ++i) {
    const double t = i / 255.0 * 2;
    const int s = std::min(1, static_cast<int>(t));
    const double f = t - s;
    for (int c = 0; c < 3; ++c) a[i][c] = static_cast<std::uint8_t>(std::lround(stops[s][c] * (1 - f) + stops[s + 1][c] * f));
  }
  return lut;
}

cv::Scalar shade(const torch::Tensor& lut, double f) {
  const int i = std::clamp(static_cast<int>(std::lround(f * 255)), 0, 255);
  auto a = lut.accessor<std::uint8_t, 2>();
  return cv::Scalar(a[i][2], a[i][1], a[i][0]);  // BGR
}

std::string percent_text(double share) {
  char buf[16];
  if (share <= 0) return "0";
  if (share >= 0.0995) std::snprintf(buf, sizeof buf, "%.0f%%", 100 * share);
  else if (share >= 0.001) std::snprintf(buf, sizeof buf, "%.1f%%", 100 * share);
  else return "<0.1%";
  return buf;
}

}  // namespace

ConfusionFigure render_confusion(const torch::Tensor& confusion, const std::vector<std::string>& class_names,
                                 const ConfusionOptions& o) {
  auto c = confusion.to(torch::kCPU, torch::kInt64).contiguous();
  if (c.dim() != 2 || c.size(0) != c.size(1) || c.size(0) == 0)
    throw ImageIOError("confusion matrix: expected a square [K, K] matrix; got " + c10::str(c.sizes()));
  const int k = static_cast<int>(c.size(0));
  auto a = c.accessor<std::int64_t, 2>();
  std::vector<std::string> names;
  for (int i = 0; i < k; ++i) names.push_back(i < static_cast<int>(class_names.size()) ? class_names[i] : std::to_string(i));

  std::vector<std::int64_t> row_sum(k, 0);
  std::int64_t max_count = 0;
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < k; ++j) {
      row_sum[i] += a[i][j];
      max_count = std::max(max_count, a[i][j]);
    }
  auto share = [&](int i, int j) { return row_sum[i] ? static_cast<double>(a[i][j]) / row_sum[i] : 0.0; };
  // 0..1, what the colour shows: the value on a square-root scale (matplotlib's PowerNorm with
  // gamma 0.5), so that a 5% error is clearly tinted next to a 95% diagonal.
  auto value = [&](int i, int j) {
    return std::sqrt(o.normalize ? share(i, j) : (max_count ? static_cast<double>(a[i][j]) / max_count : 0.0));
  };

  const double name_scale = k <= 30 ? 0.45 : 0.35, cell_scale = k <= 20 ? 0.42 : 0.32, label_scale = 0.5;
  int name_w = 0;
  for (const auto& n : names) name_w = std::max(name_w, draw::text_size(n, name_scale).width);
  name_w = std::min(name_w, 160);
  // Cells: square; for up to 12 classes wide enough to hold the names horizontally (up to 96 px).
  int cell = k <= 12 ? std::clamp(name_w + 10, 52, 96) : k <= 20 ? 38 : k <= 30 ? 28 : 14;
  const std::string bar_label = o.normalize ? "% of the true class" : "images";
  const int min_side = draw::text_size(bar_label, label_scale).width + 8;  // the turned bar label fits
  if (k <= 12) cell = std::max(cell, (min_side + k - 1) / k);
  const bool cell_text = k <= 30;
  const bool turned = name_w > cell - 6;
  const int lh = draw::line_height(label_scale), m = 12;
  const int axis_band = lh + 4;  // "true" (turned) / "predicted"
  const int row_band = name_w + 10;
  const int col_band = turned ? name_w + 10 : draw::line_height(name_scale) + 4;

  const std::string subtitle = o.normalize
                                   ? "cells: share of the true class (each row adds up to 100%); square-root colour scale"
                                   : "cells: number of images; square-root colour scale";
  const int title_h = (o.title.empty() ? 0 : lh) + draw::line_height(0.42) + 8;
  const int mx = m + axis_band + row_band, my = m + title_h;
  const int side = k * cell;
  // Colour bar and its ticks.
  // Ticks at about 0, 5%, 20%, 50% and 100% of the scale (even steps on the square-root bar),
  // rounded to one significant digit; the top one is the exact maximum.
  const double bar_max = o.normalize ? 100.0 : static_cast<double>(std::max<std::int64_t>(1, max_count));
  std::vector<double> ticks = {0};
  for (double f : {0.05, 0.2, 0.5}) {
    const double v = f * bar_max, mag = std::pow(10.0, std::floor(std::log10(v)));
    const double r = std::round(v / mag) * mag;
    if (r >= 1 && r > ticks.back() && r < bar_max * 0.9) ticks.push_back(r);
  }
  ticks.push_back(bar_max);
  auto tick_text = [&](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f%s", v, o.normalize ? "%" : "");
    return std::string(buf);
  };
  int tick_w = 0;
  for (double v : ticks) tick_w = std::max(tick_w, draw::text_size(tick_text(v), 0.4).width);
  const int bar_x = mx + side + 18, bar_w = 16;
  const int width = std::max(bar_x + bar_w + 6 + tick_w + 8 + axis_band + m,
                             m + std::max(draw::text_size(o.title, label_scale).width, draw::text_size(subtitle, 0.42).width) + m);
  const int height = my + side + col_band + axis_band + m;

  cv::Mat img(height, width, CV_8UC3, kWhite);
  int ty = m + draw::text_size("H", label_scale).height;
  if (!o.title.empty()) {
    draw::put_text(img, o.title, {m, ty}, label_scale, kInk);
    ty += lh;
  }
  draw::put_text(img, subtitle, {m, ty}, 0.42, cv::Scalar(90, 90, 90));

  const torch::Tensor lut = blues_lut();
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j < k; ++j) {
      const double v = value(i, j);
      const cv::Rect r(mx + j * cell, my + i * cell, cell, cell);
      cv::rectangle(img, r, shade(lut, v), cv::FILLED);
      if (!cell_text) continue;
      std::string s = o.normalize ? (row_sum[i] ? percent_text(share(i, j)) : "-") : std::to_string(a[i][j]);
      double scale = cell_scale;
      while (scale > 0.25 && draw::text_size(s, scale).width > cell - 4) scale -= 0.04;
      const cv::Scalar ink = v > 0.5 ? kWhite : (a[i][j] == 0 ? cv::Scalar(170, 170, 170) : kInk);
      draw::put_text(img, s, {r.x + cell / 2, r.y + (cell + draw::text_size(s, scale).height) / 2}, scale, ink,
                     Align::kCenter);
    }
  }
  for (int i = 0; i <= k; ++i) {
    cv::line(img, {mx, my + i * cell}, {mx + side, my + i * cell}, kLine, 1);
    cv::line(img, {mx + i * cell, my}, {mx + i * cell, my + side}, kLine, 1);
  }
  // Row names (right-aligned next to the matrix) and column names (under it).
  for (int i = 0; i < k; ++i) {
    const std::string n = draw::fit_text(names[i], row_band - 10, name_scale);
    draw::put_text(img, n, {mx - 6, my + i * cell + (cell + draw::text_size(n, name_scale).height) / 2}, name_scale,
                   kInk, Align::kRight);
    if (turned) {
      const int w = draw::text_size(n, name_scale).width;
      draw::put_text_vertical(img, n, {mx + i * cell + cell / 2, my + side + 6 + w / 2}, name_scale, kInk);
    } else {
      draw::put_text(img, n, {mx + i * cell + cell / 2, my + side + 4 + draw::text_size(n, name_scale).height + 2},
                     name_scale, kInk, Align::kCenter);
    }
  }
  // Axis names.
  draw::put_text(img, "predicted", {mx + side / 2, my + side + col_band + axis_band - 6}, label_scale, kInk,
                 Align::kCenter);
  draw::put_text_vertical(img, "true", {m + axis_band / 2, my + side / 2}, label_scale, kInk);
  // Colour bar.
  const cv::Rect bar(bar_x, my, bar_w, side);
  draw::color_ramp(img, bar, lut, /*vertical=*/true, /*bgr=*/true);
  cv::rectangle(img, bar, cv::Scalar(150, 150, 150), 1);
  for (double v : ticks) {
    const int y = my + side - 1 - static_cast<int>(std::lround(std::sqrt(v / bar_max) * (side - 1)));
    cv::line(img, {bar_x + bar_w, y}, {bar_x + bar_w + 3, y}, kInk, 1);
    draw::put_text(img, tick_text(v), {bar_x + bar_w + 6, y + 4}, 0.4, kInk);
  }
  draw::put_text_vertical(img, bar_label, {bar_x + bar_w + 6 + tick_w + 6 + axis_band / 2, my + side / 2},
                          label_scale, kInk);

  ConfusionFigure fig;
  cv::Mat rgb;
  cv::cvtColor(img, rgb, cv::COLOR_BGR2RGB);
  fig.image = draw::from_mat(rgb);
  fig.matrix = {mx, my, side, side};
  fig.colorbar = {bar_x, my, bar_w, side};
  fig.row_labels = {m + axis_band, my, row_band - 4, side};
  fig.column_labels = {mx, my + side + 2, side, col_band};
  fig.columns_turned = turned;
  return fig;
}

void write_confusion_png(const std::string& path, const torch::Tensor& confusion,
                         const std::vector<std::string>& class_names, const ConfusionOptions& o) {
  ConfusionFigure fig = render_confusion(confusion, class_names, o);
  cv::Mat bgr;
  cv::cvtColor(draw::to_mat(fig.image), bgr, cv::COLOR_RGB2BGR);
  draw::write_bgr_png(path, bgr);
}
#else
ConfusionFigure render_confusion(const torch::Tensor&, const std::vector<std::string>&, const ConfusionOptions&) {
  throw ImageIOError("cannot draw a confusion matrix: cnnkit was built without OpenCV");
}
void write_confusion_png(const std::string& path, const torch::Tensor&, const std::vector<std::string>&,
                         const ConfusionOptions&) {
  throw ImageIOError(path + ": cannot write a confusion-matrix image: cnnkit was built without OpenCV");
}
#endif

}  // namespace cnnkit
