// Classifies image files with a trained model rebuilt from its checkpoint: each image is read
// and converted to the model's input (channels, size), normalised with the training
// statistics stored in the checkpoint, and scored; results carry the top-k probabilities.
#pragma once
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "cnnkit/data/pipeline.h"
#include "cnnkit/eval/trained_model.h"
#include "cnnkit/model/model.h"

namespace cnnkit {

class Predictor {
 public:
  Predictor(TrainedModel trained, c10::Device device, int top_k);
  // One JSON object per path, in order: {path, class, name, probability, top_k: [...]}, or
  // {path, error} for an image that cannot be read (the others are still classified).
  std::vector<nlohmann::json> predict(const std::vector<std::string>& paths);

 private:
  Model model_;
  std::vector<std::string> class_names_;
  std::unique_ptr<BatchPipeline> pipeline_;
  c10::Device device_;
  int top_k_;
};

}  // namespace cnnkit
