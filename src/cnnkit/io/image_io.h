// The only bridge between OpenCV and tensors (DESIGN.md). Images are uint8 tensors [C, H, W]
// with C = 1 (gray) or 3 (RGB order, whatever OpenCV uses inside).
// Built without OpenCV (-DCNNKIT_WITH_OPENCV=OFF), every function here throws ImageIOError
// "... cnnkit was built without OpenCV".
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <torch/types.h>

namespace cnnkit {

bool image_io_available();

struct ImageSize {
  std::int64_t height = 0, width = 0;  // 0 = keep
  bool empty() const { return height <= 0 || width <= 0; }
};

// Largest image file read, and most pixels decoded (134 megapixels, e.g. 11,585×11,585).
constexpr std::uint64_t kMaxImageFileBytes = 1ull << 30;
constexpr std::int64_t kMaxImagePixels = std::int64_t(1) << 27;
// The pixel limit in force (kMaxImagePixels unless lowered, e.g. by a fuzzer; <= 0 resets).
std::int64_t max_image_pixels();
void set_max_image_pixels(std::int64_t pixels);

// Decodes an image file (PNG, JPEG, BMP or PNM; see io/image_header.h) into uint8 [C, H, W].
// channels: 1 (gray; colour images converted with OpenCV's luma weights) or 3 (RGB; gray
// replicated); alpha is dropped, 16-bit images scaled to 8 bits. When `resize_to` is set and
// differs from the file's size the image is resized (area filter to shrink, bilinear to grow).
// `original`, when given, receives the size in the file. A missing, unreadable, corrupt or
// truncated file, a file that is not a regular file (directory, FIFO, device, dangling link),
// another format, or more pixels than max_image_pixels() throws ImageIOError naming it, before
// anything is decoded.
torch::Tensor read_image(const std::string& path, int channels, ImageSize resize_to = {},
                         ImageSize* original = nullptr);

// Resizes uint8 [C, H, W] with the same filters as read_image.
torch::Tensor resize_image(const torch::Tensor& chw, ImageSize size);

// Writes uint8 [C, H, W] (C = 1 or 3) as PNG, atomically (temporary name, then rename);
// `durable` = false skips the fsync (see write_file_atomically), for many regenerable images.
void write_png(const std::filesystem::path& path, const torch::Tensor& chw, bool durable = true);

struct GridOptions {
  int columns = 0;         // 0: about square
  int scale = 0;           // integer upscaling of each tile (nearest); 0: so tiles are >= 64 px
  int padding = 4;         // pixels between tiles and around the grid
  std::string title;       // drawn above the grid when not empty
  std::uint8_t background = 32;
  std::uint8_t text = 255;
  double font_scale = 0.4;
  std::vector<std::string> row_labels;     // drawn left of each row (none when empty)
  std::vector<std::string> column_labels;  // drawn above each column (none when empty)
  int gap_every = 0;       // > 0: an extra gap after every `gap_every` columns (pairs stay together)
};

// Tiles N images uint8 [N, C, H, W] (C = 1 or 3) into one RGB image uint8 [3, H', W'], each
// tile upscaled by `scale` with its label (may be empty; "\n" starts another line) written
// under it, long lines shortened to fit the tile. `labels` is empty (no label bands) or has N
// entries. Text may hold "×" (io/draw.h).
torch::Tensor make_grid(const torch::Tensor& images, const std::vector<std::string>& labels,
                        const GridOptions& options = {});

// Colour maps for rendering scalar images: "gray" plus OpenCV's perceptual maps "viridis",
// "inferno", "magma", "plasma", "cividis" and the rainbow-like "turbo" and "jet".
const std::vector<std::string>& colormap_names();

// The colour map as a lookup table uint8 [256, 3] (RGB), value v -> row v (CPU).
// An unknown name throws ImageIOError listing the known ones.
torch::Tensor colormap_lut(const std::string& name);

}  // namespace cnnkit
