// Evaluation of a classifier on one split: loss, top-1 / top-5 accuracy, confusion matrix and
// per-class precision / recall / F1. Runs in inference mode on the model's device.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cnnkit/data/dataset.h"
#include "cnnkit/data/pipeline.h"
#include "cnnkit/model/model.h"

namespace cnnkit {

constexpr int kDefaultEvalBatchSize = 500;  // images per forward pass when evaluating

struct EvalOptions {
  int batch_size = kDefaultEvalBatchSize;
  bool channels_last = false;
  bool bf16 = false;  // autocast (CPU bf16 / CUDA bf16)
};

struct EvalResult {
  std::int64_t count = 0;
  double loss = 0.0;
  double top1 = 0.0;
  double top5 = 0.0;
  torch::Tensor confusion;  // int64 [K, K] on the CPU: rows = true class, columns = predicted
  std::vector<std::string> class_names;

  nlohmann::json to_json() const;  // includes per_class precision/recall/f1/support
};

EvalResult evaluate(Model& model, const ImageSet& set, const BatchPipeline& pipeline, c10::Device device,
                    const std::vector<std::string>& class_names, const EvalOptions& options);

// The readable report: totals, per-class table, confusion matrix.
std::string format_evaluation(const nlohmann::json& result);

}  // namespace cnnkit
