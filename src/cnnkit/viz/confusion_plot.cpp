#include "cnnkit/viz/confusion_plot.h"

#include <algorithm>

#include "cnnkit/core/atomic_file.h"
#include "cnnkit/core/error.h"

#ifdef CNNKIT_WITH_OPENCV
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace cnnkit {

#ifdef CNNKIT_WITH_OPENCV
void write_confusion_png(const std::string& path, const torch::Tensor& confusion,
                         const std::vector<std::string>& names, const std::string& title) {
  auto c = confusion.to(torch::kInt64).contiguous();
  const int k = static_cast<int>(c.size(0));
  auto a = c.accessor<std::int64_t, 2>();
  const int cell = k <= 10 ? 48 : (k <= 30 ? 26 : 12);
  const int label_w = 110, top = 60, left = label_w + 20;
  const int width = left + k * cell + 20, height = top + k * cell + label_w;
  cv::Mat img(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  const cv::Scalar text(30, 30, 30);
  cv::putText(img, title + "  (rows: true, columns: predicted)", {10, 22}, cv::FONT_HERSHEY_SIMPLEX, 0.5, text, 1,
              cv::LINE_AA);
  for (int i = 0; i < k; ++i) {
    std::int64_t row_sum = 0;
    for (int j = 0; j < k; ++j) row_sum += a[i][j];
    for (int j = 0; j < k; ++j) {
      double f = row_sum ? static_cast<double>(a[i][j]) / static_cast<double>(row_sum) : 0.0;
      // White to dark blue (BGR).
      cv::Scalar color(255 - f * 115, 255 - f * 200, 255 - f * 230);
      cv::Rect r(left + j * cell, top + i * cell, cell, cell);
      cv::rectangle(img, r, color, cv::FILLED);
      cv::rectangle(img, r, cv::Scalar(210, 210, 210), 1);
      if (cell >= 26) {
        std::string s = std::to_string(a[i][j]);
        double scale = cell >= 48 ? 0.4 : 0.3;
        int base = 0;
        auto sz = cv::getTextSize(s, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &base);
        cv::putText(img, s, {r.x + (cell - sz.width) / 2, r.y + (cell + sz.height) / 2}, cv::FONT_HERSHEY_SIMPLEX,
                    scale, f > 0.5 ? cv::Scalar(255, 255, 255) : text, 1, cv::LINE_AA);
      }
    }
    std::string name = i < static_cast<int>(names.size()) ? names[i] : std::to_string(i);
    if (name.size() > 14) name = name.substr(0, 13) + ".";
    cv::putText(img, name, {10, top + i * cell + cell / 2 + 4}, cv::FONT_HERSHEY_SIMPLEX, 0.4, text, 1, cv::LINE_AA);
    // Column labels, written vertically below the matrix.
    cv::Mat label(16, label_w, CV_8UC3, cv::Scalar(255, 255, 255));
    cv::putText(label, name, {2, 12}, cv::FONT_HERSHEY_SIMPLEX, 0.4, text, 1, cv::LINE_AA);
    cv::Mat rotated;
    cv::rotate(label, rotated, cv::ROTATE_90_CLOCKWISE);
    int x = left + i * cell + (cell - 16) / 2;
    if (x + 16 <= width) rotated(cv::Rect(0, 0, 16, label_w - 4)).copyTo(img(cv::Rect(x, top + k * cell + 4, 16, label_w - 4)));
  }
  std::vector<uchar> png;
  cv::imencode(".png", img, png);
  write_file_atomically(path, std::string(png.begin(), png.end()));
}
#else
void write_confusion_png(const std::string& path, const torch::Tensor&, const std::vector<std::string>&,
                         const std::string&) {
  throw ImageIOError(path + ": cannot write a confusion-matrix image: cnnkit was built without OpenCV");
}
#endif

}  // namespace cnnkit
