#include "cnnkit/viz/axes.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace cnnkit {

Ticks nice_ticks(double lo, double hi, int max_ticks, double min_step) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (lo > hi) std::swap(lo, hi);
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) {
    const double d = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
    lo -= d;
    hi += d;
  }
  max_ticks = std::max(2, max_ticks);
  const double raw = (hi - lo) / (max_ticks - 1);
  double step = 0;
  for (double mag = std::pow(10.0, std::floor(std::log10(raw))); step == 0; mag *= 10) {
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
      const double s = m * mag;
      if (s < min_step) continue;
      if (std::floor(hi / s + 1e-9) - std::ceil(lo / s - 1e-9) + 1 <= max_ticks) {
        step = s;
        break;
      }
    }
  }
  Ticks t;
  t.step = step;
  const double first = std::floor(lo / step + 1e-9), last = std::ceil(hi / step - 1e-9);
  for (double k = first; k <= last + 0.5; k += 1) t.values.push_back(std::abs(k * step) < step * 1e-9 ? 0.0 : k * step);
  if (t.values.size() < 2) t.values.push_back(t.values.back() + step);
  return t;
}

std::string tick_label(double v, double step) {
  char buf[32];
  if (v == 0) return "0";
  const double mag = std::abs(step);
  if (mag >= 1e-3 && std::abs(v) < 1e6) {
    const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(mag) - 1e-9)));
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
  }
  // Scientific: as many mantissa digits as the step needs relative to the value.
  const int exponent = static_cast<int>(std::floor(std::log10(std::abs(v))));
  const int digits = std::clamp(exponent - static_cast<int>(std::floor(std::log10(mag) + 1e-9)), 0, 6);
  std::snprintf(buf, sizeof buf, "%.*e", digits, v);
  // 2.0e-04 -> 2.0e-4, 1e+06 -> 1e6
  std::string s = buf;
  auto e = s.find('e');
  std::string mant = s.substr(0, e), ex = s.substr(e + 1);
  const bool neg = ex[0] == '-';
  ex = ex.substr(1);
  while (ex.size() > 1 && ex[0] == '0') ex.erase(0, 1);
  return mant + "e" + (neg ? "-" : "") + ex;
}

}  // namespace cnnkit
