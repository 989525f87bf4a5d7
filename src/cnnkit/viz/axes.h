// Axis ticks for plots: "nice" values (1, 2 or 5 × 10^k apart, as matplotlib's default locator
// picks them) and their labels, written with as few digits as the spacing needs.
#pragma once
#include <string>
#include <vector>

namespace cnnkit {

struct Ticks {
  double step = 1;
  std::vector<double> values;  // from lo' <= lo to hi' >= hi, `step` apart
  double lo() const { return values.front(); }
  double hi() const { return values.back(); }
};

// Ticks covering [lo, hi] with at most `max_ticks` values (at least 2). `min_step` > 0 keeps the
// spacing at or above it (1 for whole epochs). A zero-width range is widened around its value.
Ticks nice_ticks(double lo, double hi, int max_ticks, double min_step = 0);

// The label of tick `v` for ticks `step` apart: "0.25", "3", "120", "2e-4", "1.5e-3".
std::string tick_label(double v, double step);

}  // namespace cnnkit

namespace cnnkit {

// A rectangle in image pixels: where a figure put its parts (for tests and callers).
struct PixelBox {
  int x = 0, y = 0, width = 0, height = 0;
  bool intersects(const PixelBox& o) const {
    return x < o.x + o.width && o.x < x + width && y < o.y + o.height && o.y < y + height;
  }
  bool contains(int px, int py) const { return px >= x && px < x + width && py >= y && py < y + height; }
};

}  // namespace cnnkit
