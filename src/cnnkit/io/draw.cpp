#include "cnnkit/io/draw.h"

#ifdef CNNKIT_WITH_OPENCV
#include <algorithm>
#include <cmath>
#include <fstream>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "cnnkit/core/atomic_file.h"
#include "cnnkit/core/error.h"

namespace cnnkit::draw {
namespace {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

// A run of drawable text: plain ASCII, or one "×".
struct Piece {
  std::string ascii;
  bool times = false;
};

std::vector<Piece> pieces(const std::string& text) {
  std::vector<Piece> out;
  std::string run;
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      run += static_cast<char>(c);
      ++i;
      continue;
    }
    std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    if (c == 0xC3 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x97) {  // U+00D7 ×
      if (!run.empty()) out.push_back({run, false});
      run.clear();
      out.push_back({"", true});
    } else {
      run += '?';
    }
    i += len;
  }
  if (!run.empty()) out.push_back({run, false});
  return out;
}

int ascii_width(const std::string& s, double scale, int thickness) {
  int base = 0;
  return s.empty() ? 0 : cv::getTextSize(s, kFont, scale, thickness, &base).width;
}

int times_width(double scale, int thickness) { return ascii_width("x", scale, thickness); }

int cap_height(double scale, int thickness) {
  int base = 0;
  return cv::getTextSize("H", kFont, scale, thickness, &base).height;
}

}  // namespace

cv::Size text_size(const std::string& text, double scale, int thickness) {
  int w = 0;
  for (const auto& p : pieces(text)) w += p.times ? times_width(scale, thickness) : ascii_width(p.ascii, scale, thickness);
  return {w, cap_height(scale, thickness)};
}

int line_height(double scale) { return static_cast<int>(std::lround(cap_height(scale, 1) * 1.8)) + 2; }

void put_text(cv::Mat& img, const std::string& text, cv::Point at, double scale, const cv::Scalar& color, Align align,
              int thickness) {
  const int w = text_size(text, scale, thickness).width;
  int x = align == Align::kLeft ? at.x : align == Align::kCenter ? at.x - w / 2 : at.x - w;
  for (const auto& p : pieces(text)) {
    if (p.times) {
      const int tw = times_width(scale, thickness);
      const int xh = std::max(3, static_cast<int>(std::lround(cap_height(scale, thickness) * 0.6)));
      const int m = std::max(1, tw / 5);
      const int x0 = x + m, x1 = x + tw - m, y1 = at.y - 1, y0 = at.y - xh;
      cv::line(img, {x0, y0}, {x1, y1}, color, thickness, cv::LINE_AA);
      cv::line(img, {x0, y1}, {x1, y0}, color, thickness, cv::LINE_AA);
      x += tw;
    } else {
      cv::putText(img, p.ascii, {x, at.y}, kFont, scale, color, thickness, cv::LINE_AA);
      x += ascii_width(p.ascii, scale, thickness);
    }
  }
}

void put_text_vertical(cv::Mat& img, const std::string& text, cv::Point center, double scale,
                       const cv::Scalar& color) {
  const cv::Size s = text_size(text, scale);
  const int lh = line_height(scale);
  const cv::Scalar bg = img.at<cv::Vec3b>(std::clamp(center.y, 0, img.rows - 1), std::clamp(center.x, 0, img.cols - 1));
  cv::Mat band(lh, s.width + 4, img.type(), bg);
  put_text(band, text, {2, s.height + (lh - s.height) / 2 - 1}, scale, color);
  cv::Mat turned;
  cv::rotate(band, turned, cv::ROTATE_90_COUNTERCLOCKWISE);
  cv::Rect r(center.x - turned.cols / 2, center.y - turned.rows / 2, turned.cols, turned.rows);
  cv::Rect clip = r & cv::Rect(0, 0, img.cols, img.rows);
  if (clip.area() == 0) return;
  turned(cv::Rect(clip.x - r.x, clip.y - r.y, clip.width, clip.height)).copyTo(img(clip));
}

std::string fit_text(const std::string& text, int max_width, double scale) {
  if (text_size(text, scale).width <= max_width) return text;
  std::string s = text;
  while (!s.empty() && text_size(s + "..", scale).width > max_width) {
    s.pop_back();
    while (!s.empty() && (static_cast<unsigned char>(s.back()) & 0xC0) == 0x80) s.pop_back();  // whole code points
    if (!s.empty() && static_cast<unsigned char>(s.back()) >= 0xC0) s.pop_back();
  }
  return s.empty() ? std::string() : s + "..";
}

void dashed_line(cv::Mat& img, cv::Point a, cv::Point b, const cv::Scalar& color, int dash, int thickness) {
  const double len = std::hypot(b.x - a.x, b.y - a.y);
  if (len < 1) return;
  const int n = static_cast<int>(len / dash);
  for (int i = 0; i < n; i += 2) {
    const double t0 = static_cast<double>(i) * dash / len, t1 = std::min(1.0, static_cast<double>(i + 1) * dash / len);
    cv::line(img, {static_cast<int>(a.x + (b.x - a.x) * t0), static_cast<int>(a.y + (b.y - a.y) * t0)},
             {static_cast<int>(a.x + (b.x - a.x) * t1), static_cast<int>(a.y + (b.y - a.y) * t1)}, color, thickness);
  }
}

void color_ramp(cv::Mat& img, const cv::Rect& r, const torch::Tensor& lut, bool vertical, bool bgr) {
  auto l = lut.to(torch::kCPU).contiguous();
  const std::uint8_t* p = l.data_ptr<std::uint8_t>();
  const int n = vertical ? r.height : r.width;
  for (int i = 0; i < n; ++i) {
    const int v = n > 1 ? static_cast<int>(std::lround(255.0 * i / (n - 1))) : 255;
    const std::uint8_t* c = p + 3 * v;
    const cv::Scalar color = bgr ? cv::Scalar(c[2], c[1], c[0]) : cv::Scalar(c[0], c[1], c[2]);
    if (vertical) {
      const int y = r.y + r.height - 1 - i;
      cv::line(img, {r.x, y}, {r.x + r.width - 1, y}, color, 1);
    } else {
      cv::line(img, {r.x + i, r.y}, {r.x + i, r.y + r.height - 1}, color, 1);
    }
  }
}

cv::Mat to_mat(const torch::Tensor& chw) {
  auto hwc = chw.to(torch::kCPU).permute({1, 2, 0}).contiguous();
  const int c = static_cast<int>(hwc.size(2));
  cv::Mat m(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC(c), hwc.data_ptr<std::uint8_t>());
  return m.clone();
}

torch::Tensor from_mat(const cv::Mat& m) {
  cv::Mat c = m.isContinuous() ? m : m.clone();
  auto hwc = torch::from_blob(c.data, {c.rows, c.cols, c.channels()}, torch::kUInt8);
  // Always copy: the permuted view of a one-channel image is already contiguous, and
  // contiguous() would hand back a view of the cv::Mat's memory.
  return hwc.permute({2, 0, 1}).clone(at::MemoryFormat::Contiguous);
}

void write_bgr_png(const std::filesystem::path& path, const cv::Mat& bgr) {
  std::vector<uchar> png;
  if (!cv::imencode(".png", bgr, png)) throw ImageIOError(path.string() + ": PNG encoding failed");
  try {
    write_file_atomically(path, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
  } catch (const Error& e) {
    throw ImageIOError(e.what());
  }
}

}  // namespace cnnkit::draw
#endif
