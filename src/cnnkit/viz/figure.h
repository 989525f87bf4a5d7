// A labelled picture around a grid of tiles, for feature maps and filters (dark background,
// like the tiles' colour maps expect):
//
//   title                                   what the layer is: "layer 0  conv2d: conv2d 3×3 + relu  ->  28×28×32"
//   info lines                              the input and the model's prediction, the models compared
//   [input image] [grid of tiles (io/image_io.h make_grid)]
//   colour bar: low end, ramp, high end, and a caption saying how values map to colours
//
// Throws ImageIOError without OpenCV.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "cnnkit/viz/axes.h"

namespace cnnkit {

struct ColorBarSpec {
  std::string colormap;      // io/image_io.h colormap_names()
  std::string low, high;     // written at the ends of the ramp
  std::string caption;       // e.g. "colour scale shared by all channels (--normalize layer)"
};

struct FigureSpec {
  std::string title;
  std::vector<std::string> info;  // lines under the title
  torch::Tensor input;            // uint8 [C, H, W] (C = 1 or 3), already upscaled; undefined: none
  std::string input_caption;      // under the input image ("\n" starts another line)
  torch::Tensor body;             // uint8 [3, H, W]: the grid
  std::optional<ColorBarSpec> bar;
  std::uint8_t background = 32;
};

struct RenderedFigure {
  torch::Tensor image;  // uint8 [3, H, W]
  PixelBox title, info, input, body, bar;  // bar: the ramp with its end labels and caption
};

RenderedFigure render_figure(const FigureSpec& spec);

// Two images side by side with a caption over each ("A: untrained", "B: runs/x/best.pt") and
// a gap between them, under a title line when `title` is not empty ("channel 3"): the
// per-channel compare pictures. uint8 [C, H, W] each, same size.
torch::Tensor captioned_pair(const torch::Tensor& a, const std::string& caption_a, const torch::Tensor& b,
                             const std::string& caption_b, const std::string& title = "",
                             std::uint8_t background = 32);

// "1.73", "-0.052", "1.2e+03": a value with 3 significant digits, for labels.
std::string short_number(double v);

}  // namespace cnnkit
