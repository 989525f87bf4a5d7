#include "cnnkit/viz/training_curves.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "cnnkit/core/atomic_file.h"
#include "cnnkit/core/error.h"

#ifdef CNNKIT_WITH_OPENCV
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace cnnkit {

#ifdef CNNKIT_WITH_OPENCV
namespace {

struct Series {
  std::string label;
  std::vector<double> x, y;
  cv::Scalar color;
};

void draw_panel(cv::Mat& img, cv::Rect area, const std::string& title, const std::vector<Series>& series, bool percent) {
  const int left = 60, right = 15, top = 30, bottom = 40;
  cv::Rect plot(area.x + left, area.y + top, area.width - left - right, area.height - top - bottom);
  double xmin = 1, xmax = 1, ymin = 1e300, ymax = -1e300;
  for (const auto& s : series)
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      xmax = std::max(xmax, s.x[i]);
      ymin = std::min(ymin, s.y[i]);
      ymax = std::max(ymax, s.y[i]);
    }
  if (ymin > ymax) ymin = 0, ymax = 1;
  if (ymax - ymin < 1e-9) ymax = ymin + 1e-3;
  double pad = (ymax - ymin) * 0.05;
  ymin -= pad;
  ymax += pad;
  if (xmax <= xmin) xmax = xmin + 1;
  auto px = [&](double x) { return plot.x + static_cast<int>((x - xmin) / (xmax - xmin) * plot.width); };
  auto py = [&](double y) { return plot.y + plot.height - static_cast<int>((y - ymin) / (ymax - ymin) * plot.height); };
  const cv::Scalar grid(225, 225, 225), text(40, 40, 40);
  for (int i = 0; i <= 5; ++i) {
    double y = ymin + (ymax - ymin) * i / 5;
    cv::line(img, {plot.x, py(y)}, {plot.x + plot.width, py(y)}, grid, 1);
    char buf[32];
    std::snprintf(buf, sizeof buf, percent ? "%.1f%%" : "%.3f", percent ? 100 * y : y);
    cv::putText(img, buf, {area.x + 4, py(y) + 4}, cv::FONT_HERSHEY_SIMPLEX, 0.35, text, 1, cv::LINE_AA);
  }
  int ticks = static_cast<int>(std::min(10.0, xmax - xmin));
  for (int i = 0; i <= ticks; ++i) {
    double x = xmin + (xmax - xmin) * i / std::max(1, ticks);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.0f", x);
    cv::putText(img, buf, {px(x) - 4, plot.y + plot.height + 15}, cv::FONT_HERSHEY_SIMPLEX, 0.35, text, 1, cv::LINE_AA);
  }
  cv::rectangle(img, plot, cv::Scalar(150, 150, 150), 1);
  cv::putText(img, title, {plot.x, area.y + 20}, cv::FONT_HERSHEY_SIMPLEX, 0.5, text, 1, cv::LINE_AA);
  cv::putText(img, "epoch", {plot.x + plot.width / 2 - 15, area.y + area.height - 8}, cv::FONT_HERSHEY_SIMPLEX, 0.4,
              text, 1, cv::LINE_AA);
  int legend_y = plot.y + 14;
  for (const auto& s : series) {
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      cv::Point p(px(s.x[i]), py(s.y[i]));
      if (i) cv::line(img, {px(s.x[i - 1]), py(s.y[i - 1])}, p, s.color, 2, cv::LINE_AA);
      cv::circle(img, p, 3, s.color, cv::FILLED, cv::LINE_AA);
    }
    if (s.x.empty()) continue;
    cv::line(img, {plot.x + plot.width - 110, legend_y - 4}, {plot.x + plot.width - 90, legend_y - 4}, s.color, 2);
    cv::putText(img, s.label, {plot.x + plot.width - 85, legend_y}, cv::FONT_HERSHEY_SIMPLEX, 0.4, text, 1, cv::LINE_AA);
    legend_y += 16;
  }
}

Series series(const nlohmann::json& rows, const std::string& key, const std::string& label, cv::Scalar color) {
  Series s{label, {}, {}, color};
  for (const auto& r : rows) {
    if (!r.contains(key) || !r[key].is_number() || !std::isfinite(r[key].get<double>())) continue;
    s.x.push_back(r["epoch"].get<double>());
    s.y.push_back(r[key].get<double>());
  }
  return s;
}

}  // namespace

void write_training_curves(const std::string& path, const nlohmann::json& rows, const std::string& title) {
  cv::Mat img(360, 960, CV_8UC3, cv::Scalar(255, 255, 255));
  const cv::Scalar blue(180, 119, 31), orange(14, 127, 255);  // BGR
  draw_panel(img, {0, 0, 480, 360}, title + ": loss",
             {series(rows, "train_loss", "train", blue), series(rows, "val_loss", "validation", orange)}, false);
  draw_panel(img, {480, 0, 480, 360}, title + ": accuracy",
             {series(rows, "train_accuracy", "train", blue), series(rows, "val_accuracy", "validation", orange)}, true);
  std::vector<uchar> png;
  cv::imencode(".png", img, png);
  write_file_atomically(path, std::string(png.begin(), png.end()));
}
#else
void write_training_curves(const std::string& path, const nlohmann::json&, const std::string&) {
  throw ImageIOError(path + ": cannot draw training curves: cnnkit was built without OpenCV");
}
#endif

}  // namespace cnnkit
