#include "cnnkit/io/image_io.h"

#include <cmath>
#include <fstream>
#include <map>
#include <algorithm>
#include <atomic>

#include "cnnkit/core/atomic_file.h"
#include "cnnkit/core/error.h"
#include "cnnkit/core/input_file.h"
#include "cnnkit/io/image_header.h"
#include "cnnkit/core/strings.h"
#include "cnnkit/io/draw.h"

#ifdef CNNKIT_WITH_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace cnnkit {
namespace fs = std::filesystem;

namespace {

void check_chw(const torch::Tensor& t, const char* what) {
  if (!t.defined() || t.dim() != 3 || t.scalar_type() != torch::kUInt8 || (t.size(0) != 1 && t.size(0) != 3)) {
    throw ImageIOError(std::string(what) + ": expected a uint8 image [C, H, W] with C = 1 or 3; got " +
                       (t.defined() ? std::string(t.toString()) + " " + c10::str(t.sizes()) : "an undefined tensor"));
  }
}

#ifdef CNNKIT_WITH_OPENCV
using draw::from_mat;  // cv::Mat <-> uint8 [C, H, W], deep copies (io/draw.h)
using draw::to_mat;

cv::Mat resized(const cv::Mat& m, ImageSize size) {
  if (size.empty() || (m.rows == size.height && m.cols == size.width)) return m;
  cv::Mat out;
  bool shrink = size.height <= m.rows && size.width <= m.cols;
  cv::resize(m, out, cv::Size(static_cast<int>(size.width), static_cast<int>(size.height)), 0, 0,
             shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}
#else
[[noreturn]] void no_opencv(const std::string& what) {
  throw ImageIOError(what + ": cannot process images: cnnkit was built without OpenCV (CNNKIT_WITH_OPENCV=OFF)");
}
#endif

}  // namespace

bool image_io_available() {
#ifdef CNNKIT_WITH_OPENCV
  return true;
#else
  return false;
#endif
}

namespace {
std::atomic<std::int64_t> g_max_image_pixels{kMaxImagePixels};
}  // namespace

std::int64_t max_image_pixels() { return g_max_image_pixels.load(); }
void set_max_image_pixels(std::int64_t pixels) { g_max_image_pixels = pixels > 0 ? pixels : kMaxImagePixels; }

torch::Tensor read_image(const std::string& path, int channels, ImageSize resize_to, ImageSize* original) {
  if (channels != 1 && channels != 3) {
    throw ImageIOError(path + ": images can be read with 1 or 3 channels; asked for " + std::to_string(channels));
  }
#ifdef CNNKIT_WITH_OPENCV
  // Read the bytes ourselves (regular files only, bounded), check what the header promises,
  // then let OpenCV decode from memory.
  InputFile in(path);
  std::string bytes;
  if (!in.read_all(bytes, kMaxImageFileBytes)) throw ImageIOError(in.message("image file"));
  const ImageHeader header = inspect_image_bytes(bytes, max_image_pixels());
  if (!header.problem.empty()) throw ImageIOError(path + ": cannot decode image: " + header.problem);
  cv::Mat m;
  try {
    cv::Mat encoded(1, static_cast<int>(bytes.size()), CV_8UC1, bytes.data());
    m = cv::imdecode(encoded, channels == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    throw ImageIOError(path + ": cannot decode image: " + e.err);
  }
  if (m.empty()) throw ImageIOError(path + ": cannot decode image (corrupt or truncated " + header.format + ")");
  if (original) *original = ImageSize{m.rows, m.cols};
  if (channels == 3) cv::cvtColor(m, m, cv::COLOR_BGR2RGB);
  return from_mat(resized(m, resize_to));
#else
  no_opencv(path);
#endif
}

torch::Tensor resize_image(const torch::Tensor& chw, ImageSize size) {
  check_chw(chw, "resize_image");
#ifdef CNNKIT_WITH_OPENCV
  return from_mat(resized(to_mat(chw), size));
#else
  no_opencv("resize_image");
#endif
}

void write_png(const fs::path& path, const torch::Tensor& chw, bool durable) {
  check_chw(chw, path.c_str());
#ifdef CNNKIT_WITH_OPENCV
  cv::Mat m = to_mat(chw);
  if (m.channels() == 3) cv::cvtColor(m, m, cv::COLOR_RGB2BGR);
  std::vector<uchar> bytes;
  if (!cv::imencode(".png", m, bytes)) throw ImageIOError(path.string() + ": PNG encoding failed");
  try {
    write_file_atomically(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), durable);
  } catch (const Error& e) {
    throw ImageIOError(e.what());
  }
#else
  no_opencv(path.string());
#endif
}

torch::Tensor make_grid(const torch::Tensor& images, const std::vector<std::string>& labels,
                        const GridOptions& o) {
  if (!images.defined() || images.dim() != 4 || images.scalar_type() != torch::kUInt8 ||
      (images.size(1) != 1 && images.size(1) != 3) || images.size(0) == 0) {
    throw ImageIOError("make_grid: expected uint8 images [N, C, H, W] with N >= 1 and C = 1 or 3");
  }
  if (!labels.empty() && static_cast<std::int64_t>(labels.size()) != images.size(0)) {
    throw ImageIOError("make_grid: " + std::to_string(labels.size()) + " labels for " +
                       std::to_string(images.size(0)) + " images");
  }
#ifdef CNNKIT_WITH_OPENCV
  const int n = static_cast<int>(images.size(0));
  const int h = static_cast<int>(images.size(2)), w = static_cast<int>(images.size(3));
  const int scale = o.scale > 0 ? o.scale : std::max(1, static_cast<int>(std::ceil(64.0 / std::max(h, w))));
  const int cols = o.columns > 0 ? std::min(o.columns, n) : static_cast<int>(std::ceil(std::sqrt(double(n))));
  const int rows = (n + cols - 1) / cols;
  const int tile_w = w * scale, tile_h = h * scale;
  const double fs = o.font_scale;
  const int line_h = draw::line_height(fs), cap = draw::text_size("H", fs).height;
  int label_lines = 0;
  for (const auto& l : labels) label_lines = std::max(label_lines, static_cast<int>(split(l, '\n').size()));
  const int band = labels.empty() ? 0 : label_lines * line_h + 2;
  const int title_h = o.title.empty() ? 0 : draw::line_height(0.6) + 10;
  const int pad = std::max(0, o.padding);
  int row_label_w = 0;
  for (const auto& l : o.row_labels) row_label_w = std::max(row_label_w, draw::text_size(l, fs).width + 6);
  const int col_label_h = o.column_labels.empty() ? 0 : line_h + 2;
  const int gap = o.gap_every > 0 ? std::max(pad, 8) * 2 : 0;
  auto col_x = [&](int c) { return pad + row_label_w + c * (tile_w + pad) + (o.gap_every > 0 ? (c / o.gap_every) * gap : 0); };
  const int grid_w = col_x(cols - 1) + tile_w + pad;
  const int width = std::max(grid_w, o.title.empty() ? 0 : draw::text_size(o.title, 0.6).width + 2 * pad);
  const int top = title_h + col_label_h;
  const int height = top + rows * (tile_h + band + pad) + pad;
  cv::Mat canvas(height, width, CV_8UC3, cv::Scalar::all(o.background));
  const cv::Scalar ink = cv::Scalar::all(o.text);
  if (!o.title.empty()) draw::put_text(canvas, o.title, {pad, draw::text_size("H", 0.6).height + 6}, 0.6, ink);
  for (int c = 0; c < cols && c < static_cast<int>(o.column_labels.size()); ++c) {
    const std::string t = draw::fit_text(o.column_labels[c], tile_w + pad, fs);
    draw::put_text(canvas, t, {col_x(c) + tile_w / 2, title_h + cap + 2}, fs, ink, draw::Align::kCenter);
  }
  for (int r = 0; r < rows && r < static_cast<int>(o.row_labels.size()); ++r) {
    const int y = top + pad + r * (tile_h + band + pad) + (tile_h + cap) / 2;
    draw::put_text(canvas, o.row_labels[r], {pad + row_label_w - 6, y}, fs, ink, draw::Align::kRight);
  }
  auto cpu = images.to(torch::kCPU).contiguous();
  for (int i = 0; i < n; ++i) {
    cv::Mat tile = draw::to_mat(cpu[i]);
    if (tile.channels() == 1) cv::cvtColor(tile, tile, cv::COLOR_GRAY2RGB);
    cv::resize(tile, tile, cv::Size(tile_w, tile_h), 0, 0, cv::INTER_NEAREST);
    const int x = col_x(i % cols);
    const int y = top + pad + (i / cols) * (tile_h + band + pad);
    tile.copyTo(canvas(cv::Rect(x, y, tile_w, tile_h)));
    if (labels.empty() || labels[i].empty()) continue;
    int ty = y + tile_h + cap + 3;
    for (const auto& line : split(labels[i], '\n')) {
      draw::put_text(canvas, draw::fit_text(line, tile_w + pad / 2, fs), {x, ty}, fs, ink);
      ty += line_h;
    }
  }
  return from_mat(canvas);
#else
  no_opencv("make_grid");
#endif
}

const std::vector<std::string>& colormap_names() {
  static const std::vector<std::string> names = {"gray", "viridis", "inferno", "magma", "plasma", "cividis", "turbo", "jet"};
  return names;
}

torch::Tensor colormap_lut(const std::string& name) {
  const auto& names = colormap_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    throw ImageIOError("unknown colour map '" + name + "'; known: " + known);
  }
  auto ramp = torch::arange(256, torch::kInt64).to(torch::kUInt8);
  if (name == "gray") return ramp.unsqueeze(1).repeat({1, 3}).contiguous();
#ifdef CNNKIT_WITH_OPENCV
  static const std::map<std::string, int> ids = {{"viridis", cv::COLORMAP_VIRIDIS}, {"inferno", cv::COLORMAP_INFERNO},
                                                 {"magma", cv::COLORMAP_MAGMA},     {"plasma", cv::COLORMAP_PLASMA},
                                                 {"cividis", cv::COLORMAP_CIVIDIS}, {"turbo", cv::COLORMAP_TURBO},
                                                 {"jet", cv::COLORMAP_JET}};
  cv::Mat gray(1, 256, CV_8UC1, ramp.data_ptr<std::uint8_t>()), bgr;
  cv::applyColorMap(gray, bgr, ids.at(name));
  cv::cvtColor(bgr, bgr, cv::COLOR_BGR2RGB);
  return from_mat(bgr).permute({1, 2, 0}).reshape({256, 3}).contiguous();  // [3,1,256] -> [256,3]
#else
  no_opencv("colour map " + name);
#endif
}

}  // namespace cnnkit
