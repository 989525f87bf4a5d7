#include "cnnkit/viz/training_curves.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "cnnkit/core/error.h"

#ifdef CNNKIT_WITH_OPENCV
#include <opencv2/imgproc.hpp>

#include "cnnkit/io/draw.h"
#endif

namespace cnnkit {

#ifdef CNNKIT_WITH_OPENCV
namespace {

using draw::Align;

constexpr int kWidth = 1260, kPanelWidth = 420, kHeight = 430;
constexpr int kHeader = 34, kMarginLeft = 62, kMarginRight = 14, kMarginBottom = 44;
constexpr double kTickScale = 0.4, kLegendScale = 0.4, kTitleScale = 0.5;

// BGR
const cv::Scalar kWhite(255, 255, 255), kInk(40, 40, 40), kGrid(228, 228, 228), kFrame(150, 150, 150);
const cv::Scalar kBlue(180, 119, 31), kFaintBlue(236, 214, 190), kOrange(14, 127, 255), kGreen(44, 160, 44),
    kGray(110, 110, 110), kRed(40, 39, 214);

struct Series {
  std::string label;
  std::vector<double> x, y;
  cv::Scalar color;
  int thickness = 2;
  bool line = true, dots = false, in_legend = true, dashed_swatch = false;
};

struct Panel {
  std::string title;
  std::vector<Series> series;
  bool percent = false;
  double best_x = NAN;  // dashed vertical line
  std::string best_label;
};

// TensorBoard's smoothing: a debiased exponential moving average whose time constant grows
// with the number of points (about 1/50 of them).
std::vector<double> smoothed(const std::vector<double>& y) {
  std::vector<double> out(y.size());
  const double tau = std::max(1.0, static_cast<double>(y.size()) / 50.0);
  const double w = std::exp(-1.0 / tau);
  double acc = 0, norm = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    acc = acc * w + (1 - w) * y[i];
    norm = norm * w + (1 - w);
    out[i] = acc / norm;
  }
  return out;
}

Series epoch_series(const nlohmann::json& rows, const std::string& key, const std::string& label,
                    const cv::Scalar& color, double factor) {
  Series s{label, {}, {}, color};
  for (const auto& r : rows) {
    if (!r.contains(key) || !r[key].is_number() || !std::isfinite(r[key].get<double>())) continue;
    s.x.push_back(r["epoch"].get<double>());
    s.y.push_back(r[key].get<double>() * factor);
  }
  s.dots = true;
  return s;
}

// The training value every few steps (faint) and its smoothed line. A row of fewer than half
// the images of the one before (an epoch's last, partial batch: 8 images after 39 batches of
// 128) is merged into it, weighted by images, so that its noise draws no spike.
std::vector<Series> step_series(const std::vector<StepRow>& steps, double StepRow::*field, double factor) {
  Series raw{"", {}, {}, kFaintBlue, 1};
  raw.in_legend = false;
  std::vector<double> images;
  for (const auto& r : steps) {
    if (!std::isfinite(r.*field)) continue;
    const double y = r.*field * factor, n = static_cast<double>(std::max<std::int64_t>(1, r.images));
    if (!images.empty() && 2 * n < images.back()) {
      raw.y.back() = (raw.y.back() * images.back() + y * n) / (images.back() + n);
      raw.x.back() = r.epoch;
      images.back() += n;
      continue;
    }
    raw.x.push_back(r.epoch);
    raw.y.push_back(y);
    images.push_back(n);
  }
  Series smooth{"train (per step, smoothed)", raw.x, smoothed(raw.y), kBlue, 2};
  return {raw, smooth};
}

Panel metric_panel(const std::string& title, const nlohmann::json& rows, const std::vector<StepRow>& steps,
                   const std::string& key, double StepRow::*field, bool percent, int best_epoch) {
  const double f = percent ? 100.0 : 1.0;
  Panel p;
  p.title = title;
  p.percent = percent;
  if (!steps.empty()) {
    p.series = step_series(steps, field, f);
    Series train = epoch_series(rows, "train_" + key, "train (epoch mean)", kBlue, f);
    train.line = false;
    p.series.push_back(train);
  } else {
    p.series.push_back(epoch_series(rows, "train_" + key, "train", kBlue, f));
  }
  p.series.push_back(epoch_series(rows, "val_" + key, "validation", kOrange, f));
  // Without a validation split the watched figures are the test split's (test_*), labelled so;
  // a run that keeps EMA weights shows their figures too.
  p.series.push_back(epoch_series(rows, "test_" + key, "test (watch only)", kRed, f));
  p.series.push_back(epoch_series(rows, "ema_val_" + key, "validation, EMA", kGreen, f));
  p.series.push_back(epoch_series(rows, "ema_test_" + key, "test, EMA (watch only)", kGreen, f));
  if (best_epoch > 0) {
    p.best_x = best_epoch;
    p.best_label = "best epoch (" + std::to_string(best_epoch) + ")";
  }
  return p;
}

Panel lr_panel(const nlohmann::json& rows, const std::vector<StepRow>& steps) {
  Panel p;
  p.title = "learning rate";
  Series s{"learning rate", {}, {}, kGreen, 2};
  s.in_legend = false;
  if (!steps.empty()) {
    for (const auto& r : steps) {
      s.x.push_back(r.epoch);
      s.y.push_back(r.lr);
    }
  } else {
    s = epoch_series(rows, "lr", "learning rate", kGreen, 1.0);
    s.in_legend = false;
  }
  p.series.push_back(s);
  return p;
}

struct LegendItem {
  std::string label;
  cv::Scalar color;
  bool dots, line, dashed;
};

std::vector<LegendItem> legend_items(const Panel& p) {
  std::vector<LegendItem> items;
  for (const auto& s : p.series)
    if (s.in_legend && !s.x.empty()) items.push_back({s.label, s.color, s.dots, s.line, false});
  if (std::isfinite(p.best_x)) items.push_back({p.best_label, kGray, false, true, true});
  return items;
}

constexpr int kSwatch = 22, kItemGap = 16, kLegendPad = 6;

// Lines of legend items that fit `width`.
std::vector<std::vector<LegendItem>> legend_lines(const std::vector<LegendItem>& items, int width) {
  std::vector<std::vector<LegendItem>> lines;
  int used = 0;
  for (const auto& it : items) {
    const int w = kSwatch + 4 + draw::text_size(it.label, kLegendScale).width + kItemGap;
    if (lines.empty() || used + w > width) {
      lines.push_back({});
      used = 0;
    }
    lines.back().push_back(it);
    used += w;
  }
  return lines;
}

PixelBox draw_legend(cv::Mat& img, const std::vector<std::vector<LegendItem>>& lines, int x, int y) {
  if (lines.empty()) return {x, y, 0, 0};
  const int lh = draw::line_height(kLegendScale);
  int width = 0;
  for (const auto& line : lines) {
    int w = 0;
    for (const auto& it : line) w += kSwatch + 4 + draw::text_size(it.label, kLegendScale).width + kItemGap;
    width = std::max(width, w - kItemGap);
  }
  const cv::Rect box(x, y, width + 2 * kLegendPad, static_cast<int>(lines.size()) * lh + kLegendPad);
  cv::rectangle(img, box, cv::Scalar(200, 200, 200), 1);
  int ty = y + kLegendPad / 2 + lh - 5;
  for (const auto& line : lines) {
    int tx = x + kLegendPad;
    for (const auto& it : line) {
      const int my = ty - 4;
      if (it.dashed) {
        draw::dashed_line(img, {tx, my}, {tx + kSwatch, my}, it.color, 4, 1);
      } else if (it.line) {
        cv::line(img, {tx, my}, {tx + kSwatch, my}, it.color, 2, cv::LINE_AA);
      }
      if (it.dots) cv::circle(img, {tx + kSwatch / 2, my}, 3, it.color, cv::FILLED, cv::LINE_AA);
      draw::put_text(img, it.label, {tx + kSwatch + 4, ty}, kLegendScale, kInk);
      tx += kSwatch + 4 + draw::text_size(it.label, kLegendScale).width + kItemGap;
    }
    ty += lh;
  }
  return {box.x, box.y, box.width, box.height};
}

struct Range {
  double lo = INFINITY, hi = -INFINITY;
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return lo > hi; }
};

void draw_panel(cv::Mat& img, const Panel& p, const cv::Rect& plot, double xmax, CurvesFigure& fig) {
  Range yr;
  for (const auto& s : p.series)
    for (double v : s.y) yr.add(v);
  if (yr.empty()) yr.add(0), yr.add(1);
  const Ticks yt = nice_ticks(yr.lo, yr.hi, 6);
  const double ylo = yt.lo(), yhi = yt.hi();
  const double xlo = 0, xhi = xmax * 1.02;
  Ticks xt = nice_ticks(0, xmax, 8, xmax >= 2 ? 1.0 : 0.0);
  auto px = [&](double x) { return plot.x + static_cast<int>(std::lround((x - xlo) / (xhi - xlo) * (plot.width - 1))); };
  auto py = [&](double y) {
    return plot.y + plot.height - 1 - static_cast<int>(std::lround((y - ylo) / (yhi - ylo) * (plot.height - 1)));
  };
  // Grid and tick labels.
  for (double v : yt.values) {
    const int y = py(v);
    cv::line(img, {plot.x, y}, {plot.x + plot.width - 1, y}, kGrid, 1);
    std::string label = tick_label(v, yt.step) + (p.percent ? "%" : "");
    draw::put_text(img, label, {plot.x - 6, y + 4}, kTickScale, kInk, Align::kRight);
  }
  for (double v : xt.values) {
    if (v > xmax + 1e-9) continue;
    const int x = px(v);
    cv::line(img, {x, plot.y}, {x, plot.y + plot.height - 1}, kGrid, 1);
    cv::line(img, {x, plot.y + plot.height}, {x, plot.y + plot.height + 4}, kFrame, 1);
    draw::put_text(img, tick_label(v, xt.step), {x, plot.y + plot.height + 18}, kTickScale, kInk, Align::kCenter);
  }
  fig.x_tick_bands.push_back({plot.x - 20, plot.y + plot.height + 5, plot.width + 40, 16});
  fig.y_tick_bands.push_back({plot.x - kMarginLeft + 2, plot.y - 8, kMarginLeft - 8, plot.height + 16});
  draw::put_text(img, "epoch", {plot.x + plot.width / 2, plot.y + plot.height + 38}, 0.45, kInk, Align::kCenter);
  // Best epoch.
  if (std::isfinite(p.best_x)) {
    draw::dashed_line(img, {px(p.best_x), plot.y}, {px(p.best_x), plot.y + plot.height - 1}, kGray, 5, 1);
  }
  // Data, clipped to the plot.
  cv::Mat area = img(plot);
  const cv::Point off(plot.x, plot.y);
  for (const auto& s : p.series) {
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      const cv::Point pt(px(s.x[i]), py(s.y[i]));
      if (s.line && i) cv::line(area, cv::Point(px(s.x[i - 1]), py(s.y[i - 1])) - off, pt - off, s.color, s.thickness, cv::LINE_AA);
    }
    if (s.dots) {
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        const cv::Point pt(px(s.x[i]), py(s.y[i]));
        cv::circle(area, pt - off, 3, s.color, cv::FILLED, cv::LINE_AA);
        if (std::isfinite(p.best_x) && std::abs(s.x[i] - p.best_x) < 1e-9 && s.color == kOrange)
          cv::circle(area, pt - off, 6, kOrange, 1, cv::LINE_AA);
      }
    }
  }
  cv::rectangle(img, plot, kFrame, 1);
  fig.plots.push_back({plot.x, plot.y, plot.width, plot.height});
}

}  // namespace

CurvesFigure render_training_curves(const nlohmann::json& rows, const std::vector<StepRow>& steps,
                                    const std::string& title) {
  // The best epoch as the trainer counts it: the first with the highest validation accuracy.
  int best_epoch = 0;
  double best = -1;
  double xmax = 0;
  for (const auto& r : rows) {
    xmax = std::max(xmax, r.value("epoch", 0.0));
    if (r.contains("val_accuracy") && r["val_accuracy"].is_number() && r["val_accuracy"].get<double>() > best) {
      best = r["val_accuracy"].get<double>();
      best_epoch = r["epoch"].get<int>();
    }
  }
  for (const auto& s : steps) xmax = std::max(xmax, s.epoch);
  if (xmax <= 0) xmax = 1;

  std::vector<Panel> panels = {
      metric_panel("loss", rows, steps, "loss", &StepRow::loss, false, best_epoch),
      metric_panel("accuracy", rows, steps, "accuracy", &StepRow::accuracy, true, best_epoch),
      lr_panel(rows, steps)};

  cv::Mat img(kHeight, kWidth, CV_8UC3, kWhite);
  std::string heading = title + ": training curves";
  if (best_epoch > 0) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "  -  best validation accuracy %.2f%% at epoch %d", 100 * best, best_epoch);
    heading += buf;
  }
  draw::put_text(img, draw::fit_text(heading, kWidth - 20, 0.55), {12, 24}, 0.55, kInk);

  // Legends above the plots; the tallest sets where every plot starts, so the panels align.
  const int legend_width = kPanelWidth - kMarginLeft - kMarginRight - 2 * kLegendPad;
  std::vector<std::vector<std::vector<LegendItem>>> legends;
  int legend_h = 0;
  for (const auto& p : panels) {
    legends.push_back(legend_lines(legend_items(p), legend_width));
    legend_h = std::max(legend_h, static_cast<int>(legends.back().size()) * draw::line_height(kLegendScale) + kLegendPad);
  }
  const int title_y = kHeader + 16;
  const int legend_y = title_y + 8;
  const int plot_y = legend_y + legend_h + 10;
  CurvesFigure fig;
  for (std::size_t i = 0; i < panels.size(); ++i) {
    const int x0 = static_cast<int>(i) * kPanelWidth;
    const cv::Rect plot(x0 + kMarginLeft, plot_y, kPanelWidth - kMarginLeft - kMarginRight,
                        kHeight - plot_y - kMarginBottom);
    draw::put_text(img, panels[i].title + (panels[i].percent ? " (%)" : ""), {plot.x, title_y}, kTitleScale, kInk);
    fig.legends.push_back(draw_legend(img, legends[i], plot.x, legend_y));
    draw_panel(img, panels[i], plot, xmax, fig);
  }
  cv::Mat rgb;
  cv::cvtColor(img, rgb, cv::COLOR_BGR2RGB);
  fig.image = draw::from_mat(rgb);
  return fig;
}

void write_training_curves(const std::string& path, const nlohmann::json& rows, const std::vector<StepRow>& steps,
                           const std::string& title) {
  CurvesFigure fig = render_training_curves(rows, steps, title);
  cv::Mat bgr;
  cv::cvtColor(draw::to_mat(fig.image), bgr, cv::COLOR_RGB2BGR);
  draw::write_bgr_png(path, bgr);
}
#else
CurvesFigure render_training_curves(const nlohmann::json&, const std::vector<StepRow>&, const std::string&) {
  throw ImageIOError("cannot draw training curves: cnnkit was built without OpenCV");
}
void write_training_curves(const std::string& path, const nlohmann::json&, const std::vector<StepRow>&,
                           const std::string&) {
  throw ImageIOError(path + ": cannot draw training curves: cnnkit was built without OpenCV");
}
#endif

}  // namespace cnnkit
