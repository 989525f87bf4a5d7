#include "cnnkit/train/train_step.h"

#include <torch/nn/functional/loss.h>
#include <torch/nn/utils/clip_grad.h>

#include <cmath>
#include <filesystem>

#include "cnnkit/eval/forward.h"

namespace cnnkit {

StepOptions StepOptions::from(const TrainingConfig& tc, c10::Device device) {
  StepOptions o;
  o.bf16 = tc.bf16(device);
  o.channels_last = tc.channels_last;
  o.label_smoothing = tc.label_smoothing;
  o.grad_clip = tc.grad_clip;
  o.check_every_step = device.is_cpu();
  return o;
}

TrainStep::TrainStep(Model& model, torch::optim::Optimizer& optimizer, StepOptions options)
    : model_(model), optimizer_(optimizer), options_(options) {}

StepResult TrainStep::operator()(const torch::Tensor& x, const torch::Tensor& y, const StepPosition& where,
                                 double loss_weight) {
  optimizer_.zero_grad();
  if (sync_) sync_->before_forward();
  if (x.size(0) == 0) {  // a data-parallel rank with no images in this step
    if (sync_) {
      sync_->before_backward(torch::Tensor());
      sync_->after_backward();
    }
    if (options_.grad_clip > 0) torch::nn::utils::clip_grad_norm_(model_.net->parameters(), options_.grad_clip);
    optimizer_.step();
    auto f = torch::TensorOptions().dtype(torch::kFloat32).device(y.device());
    return {torch::zeros({}, f), torch::zeros({0, model_.num_outputs()}, f)};
  }
  auto logits = forward_logits(model_, x, options_.channels_last, options_.bf16);
  auto loss = torch::nn::functional::cross_entropy(
      logits, y, torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(options_.label_smoothing));
  if (options_.check_every_step) {
    const double value = loss.item<double>();
    if (!std::isfinite(value)) throw non_finite_loss(value, where, true);
  }
  const torch::Tensor objective = loss_weight == 1.0 ? loss : loss * loss_weight;
  if (sync_) sync_->before_backward(objective);
  objective.backward();
  if (sync_) sync_->after_backward();
  if (options_.grad_clip > 0) torch::nn::utils::clip_grad_norm_(model_.net->parameters(), options_.grad_clip);
  optimizer_.step();
  return {loss.detach(), logits.detach()};
}

TrainingError non_finite_loss(double value, const StepPosition& where, bool exact) {
  const std::string kept_checkpoint = where.kept_checkpoint ? *where.kept_checkpoint : "";
  std::string msg = "non-finite loss";
  if (exact) msg += " (" + std::to_string(value) + ")";
  msg += " at epoch " + std::to_string(where.epoch) + ", " + (exact ? "batch " : "at or before batch ") +
         std::to_string(where.batch) + "; training stopped";
  std::error_code ec;
  if (!kept_checkpoint.empty() && std::filesystem::exists(kept_checkpoint, ec))
    msg += ", the last good checkpoint " + kept_checkpoint + " is kept";
  msg += " (try a lower learning rate or grad_clip)";
  return TrainingError(msg);
}

}  // namespace cnnkit
