// curves.png: loss (left) and accuracy (right) per epoch, training and validation (or test, when
// the run has no validation split; EMA weights too), drawn with
// OpenCV. Throws ImageIOError in a build without OpenCV.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace cnnkit {

// `rows`: the metrics rows (epoch, train_loss, val_loss, train_accuracy, val_accuracy).
void write_training_curves(const std::string& path, const nlohmann::json& rows, const std::string& title);

}  // namespace cnnkit
