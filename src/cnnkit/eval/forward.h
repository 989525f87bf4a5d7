// One forward pass of the model with the run's speed settings (channels-last memory format,
// bf16 autocast), returning float32 logits. Shared by the trainer, evaluator and predictor.
#pragma once
#include <torch/types.h>

#include "cnnkit/model/model.h"

namespace cnnkit {

torch::Tensor forward_logits(Model& model, const torch::Tensor& x, bool channels_last, bool bf16);
// Converts 4-D weights (and later inputs) to channels-last in place.
void to_channels_last(Model& model);

}  // namespace cnnkit
