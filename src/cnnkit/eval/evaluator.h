// Evaluation of a classifier on one split: loss, top-1 / top-5 accuracy, confusion matrix and
// per-class precision / recall / F1. Runs in inference mode on the model's device. With
// test-time augmentation (eval/eval_config.h) the same pass also scores the averaged logits of
// the augmented views, reported separately (EvalResult::tta) from the plain figures.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cnnkit/data/dataset.h"
#include "cnnkit/data/pipeline.h"
#include "cnnkit/eval/eval_config.h"
#include "cnnkit/model/model.h"

namespace cnnkit {

constexpr int kDefaultEvalBatchSize = 500;  // images per forward pass when evaluating

struct EvalOptions {
  int batch_size = kDefaultEvalBatchSize;
  bool channels_last = false;
  bool bf16 = false;  // autocast (CPU bf16 / CUDA bf16)
  // Data-parallel evaluation: this process evaluates part `part` of `parts` contiguous parts of
  // the split (images [part*N/parts, (part+1)*N/parts)), and `sum_across` adds the sums of every
  // process in place (loss, top-1, top-5, confusion matrix: float64 and int64 tensors on the
  // device), so every image counts exactly once and every process gets the whole split's result.
  int part = 0;
  int parts = 1;
  std::function<void(const std::vector<torch::Tensor>&)> sum_across;
  TtaOptions tta;  // off by default
};

struct EvalResult {
  std::int64_t count = 0;
  double loss = 0.0;
  double top1 = 0.0;
  double top5 = 0.0;
  torch::Tensor confusion;  // int64 [K, K] on the CPU: rows = true class, columns = predicted
  std::vector<std::string> class_names;
  // With TTA: the figures of the averaged views (count, loss, top1, top5, confusion), and how.
  std::shared_ptr<EvalResult> tta;
  TtaOptions tta_options;

  // Includes per_class precision/recall/f1/support, and with TTA a "tta" object: {flip,
  // translate, views, count, loss, accuracy, top5_accuracy, macro_f1}.
  nlohmann::json to_json() const;
};

// The logits of the TTA views of `x` (normalised [B, C, H, W]) averaged as eval_config.h says;
// `plain` is f(x) when already computed (else undefined).
torch::Tensor tta_logits(Model& model, const torch::Tensor& x, const torch::Tensor& plain, const EvalOptions& options);

EvalResult evaluate(Model& model, const ImageSet& set, const BatchPipeline& pipeline, c10::Device device,
                    const std::vector<std::string>& class_names, const EvalOptions& options);

// The readable report: totals, per-class table, confusion matrix.
std::string format_evaluation(const nlohmann::json& result);

}  // namespace cnnkit
