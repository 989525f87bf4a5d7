// curves.png: three panels drawn with OpenCV, the way Keras/TensorBoard users expect them.
//  - loss and accuracy against epochs: the training value every few steps (steps.csv, drawn
//    faint, with a smoothed line over it), the training mean of each epoch, the validation
//    value of each epoch (the test split's, labelled "watch only", when the run has no
//    validation split; the EMA weights' too), and a dashed line at the best epoch (highest
//    validation accuracy);
//  - the learning rate the schedule gave, step by step (or per epoch without steps.csv).
// Ticks are "nice" values (viz/axes.h); a one-epoch run gets an axis from 0 to 1 epoch; the
// legends sit above the plots, never over the data. Throws ImageIOError without OpenCV.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "cnnkit/train/step_log.h"
#include "cnnkit/viz/axes.h"

namespace cnnkit {

struct CurvesFigure {
  torch::Tensor image;            // uint8 [3, H, W], RGB
  std::vector<PixelBox> plots;    // plot areas: loss, accuracy, learning rate
  std::vector<PixelBox> legends;  // legend boxes (empty box for a panel without a legend)
  std::vector<PixelBox> x_tick_bands, y_tick_bands;  // where the tick labels are written
};

// `rows`: the metrics rows (epoch, train_loss, val_loss, train_accuracy, val_accuracy, lr);
// `steps`: steps.csv's rows (may be empty); `title`: the model's name.
CurvesFigure render_training_curves(const nlohmann::json& rows, const std::vector<StepRow>& steps,
                                    const std::string& title);
void write_training_curves(const std::string& path, const nlohmann::json& rows, const std::vector<StepRow>& steps,
                           const std::string& title);

}  // namespace cnnkit
