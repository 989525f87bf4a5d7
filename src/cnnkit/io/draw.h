// Drawing helpers for the pictures cnnkit writes (plots, labelled grids, colour bars), on
// cv::Mat canvases. Only built with OpenCV (CNNKIT_WITH_OPENCV); callers guard their use the
// same way. The colour order of a canvas is the caller's business (the helpers take colours as
// given); the tensor bridges keep RGB order.
//
// Text: OpenCV's Hershey font, which has ASCII only. "×" (as in 32×32×3, the notation of
// `cnnkit summary`) is drawn as a small cross of the font's weight; other non-ASCII characters
// are drawn as '?'.
#pragma once
#ifdef CNNKIT_WITH_OPENCV
#include <filesystem>
#include <string>

#include <opencv2/core.hpp>
#include <torch/types.h>

namespace cnnkit::draw {

enum class Align { kLeft, kCenter, kRight };

// Width and height (cap height, the baseline excluded) of `text` at `scale`.
cv::Size text_size(const std::string& text, double scale, int thickness = 1);
// The line height used for stacking lines of `scale` (text height, descender and a gap).
int line_height(double scale);

// Draws `text` with its baseline at at.y; at.x is its left edge, centre or right edge.
void put_text(cv::Mat& img, const std::string& text, cv::Point at, double scale, const cv::Scalar& color,
              Align align = Align::kLeft, int thickness = 1);

// Draws `text` turned 90° counter-clockwise (read from bottom to top), centred on `center`.
void put_text_vertical(cv::Mat& img, const std::string& text, cv::Point center, double scale,
                       const cv::Scalar& color);

// `text` shortened with ".." at the end so that it is at most `max_width` pixels wide.
std::string fit_text(const std::string& text, int max_width, double scale);

// A dashed straight line.
void dashed_line(cv::Mat& img, cv::Point a, cv::Point b, const cv::Scalar& color, int dash = 6, int thickness = 1);

// Fills `r` with the colour map `lut` (uint8 [256, 3], RGB as io/image_io.h's colormap_lut):
// low values at the bottom (vertical) or on the left (horizontal). `bgr`: the canvas is BGR.
void color_ramp(cv::Mat& img, const cv::Rect& r, const torch::Tensor& lut, bool vertical, bool bgr);

// uint8 [C, H, W] (C = 1 or 3) -> cv::Mat (deep copy; channel order kept) and back.
cv::Mat to_mat(const torch::Tensor& chw);
torch::Tensor from_mat(const cv::Mat& m);

// Encodes a BGR canvas as PNG and writes it atomically. Throws ImageIOError.
void write_bgr_png(const std::filesystem::path& path, const cv::Mat& bgr);

}  // namespace cnnkit::draw
#endif
