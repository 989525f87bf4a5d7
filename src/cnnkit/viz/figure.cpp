#include "cnnkit/viz/figure.h"

#include <algorithm>
#include <cstdio>

#include "cnnkit/core/error.h"
#include "cnnkit/core/strings.h"
#include "cnnkit/io/image_io.h"

#ifdef CNNKIT_WITH_OPENCV
#include <opencv2/imgproc.hpp>

#include "cnnkit/io/draw.h"
#endif

namespace cnnkit {

std::string short_number(double v) {
  char buf[32];
  if (v == 0) return "0";
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

#ifdef CNNKIT_WITH_OPENCV
namespace {

constexpr int kPad = 10, kGap = 14;
constexpr double kTitleScale = 0.55, kInfoScale = 0.45, kSmallScale = 0.4;
constexpr int kRampWidth = 256, kRampHeight = 12;

cv::Mat rgb_mat(const torch::Tensor& chw) {
  cv::Mat m = draw::to_mat(chw);
  if (m.channels() == 1) cv::cvtColor(m, m, cv::COLOR_GRAY2RGB);
  return m;
}

}  // namespace

RenderedFigure render_figure(const FigureSpec& s) {
  const cv::Scalar bg = cv::Scalar::all(s.background), ink = cv::Scalar::all(255), soft = cv::Scalar::all(200);
  const cv::Mat body = rgb_mat(s.body);
  const cv::Mat input = s.input.defined() ? rgb_mat(s.input) : cv::Mat();
  const std::vector<std::string> caption = s.input.defined() ? split(s.input_caption, '\n') : std::vector<std::string>{};

  const int title_lh = draw::line_height(kTitleScale), info_lh = draw::line_height(kInfoScale),
            small_lh = draw::line_height(kSmallScale);
  int input_w = 0, input_h = 0;
  if (!input.empty()) {
    input_w = input.cols;
    for (const auto& c : caption) input_w = std::max(input_w, draw::text_size(c, kSmallScale).width);
    input_h = input.rows + 4 + static_cast<int>(caption.size()) * small_lh;
  }
  // The colour bar: "low [ramp] high", the caption under it.
  int bar_w = 0, bar_h = 0, low_w = 0, high_w = 0;
  if (s.bar) {
    low_w = draw::text_size(s.bar->low, kSmallScale).width;
    high_w = draw::text_size(s.bar->high, kSmallScale).width;
    bar_w = std::max(low_w + 8 + kRampWidth + 8 + high_w, draw::text_size(s.bar->caption, kSmallScale).width);
    bar_h = kRampHeight + 6 + small_lh;
  }
  int width = (input_w ? input_w + kGap : 0) + body.cols;
  width = std::max({width, draw::text_size(s.title, kTitleScale).width, bar_w});
  for (const auto& l : s.info) width = std::max(width, draw::text_size(l, kInfoScale).width);
  width += 2 * kPad;
  const int title_h = s.title.empty() ? 0 : title_lh;
  const int info_h = static_cast<int>(s.info.size()) * info_lh;
  const int content_y = kPad + title_h + info_h + (title_h + info_h ? 6 : 0);
  const int content_h = std::max(input_h, body.rows);
  const int bar_y = content_y + content_h + (s.bar ? 10 : 0);
  const int height = bar_y + bar_h + kPad;

  cv::Mat img(height, width, CV_8UC3, bg);
  RenderedFigure out;
  int y = kPad;
  if (!s.title.empty()) {
    draw::put_text(img, s.title, {kPad, y + draw::text_size("H", kTitleScale).height + 2}, kTitleScale, ink);
    out.title = {kPad, y, width - 2 * kPad, title_lh};
    y += title_lh;
  }
  if (!s.info.empty()) out.info = {kPad, y, width - 2 * kPad, info_h};
  for (const auto& l : s.info) {
    draw::put_text(img, l, {kPad, y + draw::text_size("H", kInfoScale).height + 2}, kInfoScale, soft);
    y += info_lh;
  }
  int x = kPad;
  if (!input.empty()) {
    input.copyTo(img(cv::Rect(x, content_y, input.cols, input.rows)));
    int cy = content_y + input.rows + 4 + draw::text_size("H", kSmallScale).height;
    for (const auto& c : caption) {
      draw::put_text(img, c, {x, cy}, kSmallScale, ink);
      cy += small_lh;
    }
    out.input = {x, content_y, input_w, input_h};
    x += input_w + kGap;
  }
  body.copyTo(img(cv::Rect(x, content_y, body.cols, body.rows)));
  out.body = {x, content_y, body.cols, body.rows};
  if (s.bar) {
    const int ramp_x = kPad + low_w + 8;
    const int text_y = bar_y + kRampHeight / 2 + draw::text_size("H", kSmallScale).height / 2;
    draw::put_text(img, s.bar->low, {kPad, text_y}, kSmallScale, ink);
    const cv::Rect ramp(ramp_x, bar_y, kRampWidth, kRampHeight);
    draw::color_ramp(img, ramp, colormap_lut(s.bar->colormap), /*vertical=*/false, /*bgr=*/false);
    cv::rectangle(img, ramp, soft, 1);
    draw::put_text(img, s.bar->high, {ramp_x + kRampWidth + 8, text_y}, kSmallScale, ink);
    draw::put_text(img, s.bar->caption,
                   {kPad, bar_y + kRampHeight + 6 + draw::text_size("H", kSmallScale).height}, kSmallScale, soft);
    out.bar = {kPad, bar_y, bar_w, bar_h};
  }
  out.image = draw::from_mat(img);
  return out;
}

torch::Tensor captioned_pair(const torch::Tensor& a, const std::string& caption_a, const torch::Tensor& b,
                             const std::string& caption_b, const std::string& title, std::uint8_t background) {
  const cv::Mat ma = rgb_mat(a), mb = rgb_mat(b);
  const int gap = 8, lh = draw::line_height(kSmallScale);
  const int width = ma.cols + gap + mb.cols;
  const int top = title.empty() ? 0 : lh;  // the title line, then the captions' line
  cv::Mat img(top + lh + 2 + std::max(ma.rows, mb.rows), width, CV_8UC3, cv::Scalar::all(background));
  const int ty = draw::text_size("H", kSmallScale).height + 3;
  if (!title.empty())
    draw::put_text(img, draw::fit_text(title, width, kSmallScale), {0, ty}, kSmallScale, cv::Scalar::all(255));
  draw::put_text(img, draw::fit_text(caption_a, ma.cols, kSmallScale), {0, top + ty}, kSmallScale,
                 cv::Scalar::all(255));
  draw::put_text(img, draw::fit_text(caption_b, mb.cols, kSmallScale), {ma.cols + gap, top + ty}, kSmallScale,
                 cv::Scalar::all(255));
  ma.copyTo(img(cv::Rect(0, top + lh + 2, ma.cols, ma.rows)));
  mb.copyTo(img(cv::Rect(ma.cols + gap, top + lh + 2, mb.cols, mb.rows)));
  return draw::from_mat(img);
}
#else
RenderedFigure render_figure(const FigureSpec&) {
  throw ImageIOError("cannot draw a figure: cnnkit was built without OpenCV");
}
torch::Tensor captioned_pair(const torch::Tensor&, const std::string&, const torch::Tensor&, const std::string&,
                             const std::string&, std::uint8_t) {
  throw ImageIOError("cannot draw a figure: cnnkit was built without OpenCV");
}
#endif

}  // namespace cnnkit
