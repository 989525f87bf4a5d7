// A labelled confusion-matrix heatmap, as scikit-learn's ConfusionMatrixDisplay draws it: rows
// are the true class (axis "true"), columns the predicted class (axis "predicted"), a colour
// bar on the right. Two views:
//  - counts: each cell shows its number of images, shaded by count / largest count;
//  - row-normalised: each cell shows its share of the true class (so the diagonal is the
//    recall, and errors such as cat -> dog stand out next to large diagonal counts), shaded
//    by that share.
// Column names are written horizontally when they fit a cell, else turned 90°. The canvas is as
// large as its labels need, with no blank margins. Throws ImageIOError without OpenCV.
#pragma once
#include <string>
#include <vector>

#include <torch/types.h>

#include "cnnkit/viz/axes.h"

namespace cnnkit {

struct ConfusionOptions {
  bool normalize = false;  // row-normalised view
  std::string title;
};

struct ConfusionFigure {
  torch::Tensor image;  // uint8 [3, H, W], RGB
  PixelBox matrix, colorbar, row_labels, column_labels;
  bool columns_turned = false;  // column names written turned 90°
};

// `confusion`: int64 [K, K], rows = true class. `class_names`: K names (missing ones are the
// class index).
ConfusionFigure render_confusion(const torch::Tensor& confusion, const std::vector<std::string>& class_names,
                                 const ConfusionOptions& options);
void write_confusion_png(const std::string& path, const torch::Tensor& confusion,
                         const std::vector<std::string>& class_names, const ConfusionOptions& options);

}  // namespace cnnkit
