// A labelled confusion-matrix heatmap (rows: true class, columns: predicted), each cell showing
// its count, shaded by the fraction of its row. Throws ImageIOError without OpenCV.
#pragma once
#include <string>
#include <vector>

#include <torch/types.h>

namespace cnnkit {

void write_confusion_png(const std::string& path, const torch::Tensor& confusion,
                         const std::vector<std::string>& class_names, const std::string& title);

}  // namespace cnnkit
