#include "cnnkit/data/pipeline.h"

#include "cnnkit/core/error.h"
#include "cnnkit/data/augment.h"
#include "cnnkit/data/data_config.h"

namespace cnnkit {

struct BatchPipeline::Impl {
  AugmentOptions augment;
  Normalization norm;
  c10::Device device{c10::kCPU};
  torch::Tensor scale, shift;  // x * scale - shift == (x / 255 - mean) / std, [1, C, 1, 1]
};

BatchPipeline::BatchPipeline(const Config& config, Normalization norm, c10::Device device)
    : impl_(std::make_shared<Impl>()) {
  if (config.has_section("data")) impl_->augment = augment_options_from_json(config.resolved()["data"]["augment"]);
  if (norm.mean.empty() || norm.mean.size() != norm.std.size()) {
    throw DataError("normalization: mean (" + std::to_string(norm.mean.size()) + " values) and std (" +
                    std::to_string(norm.std.size()) + " values) must be non-empty and of equal length");
  }
  for (double s : norm.std)
    if (!(s > 0)) throw DataError("normalization: std values must be positive");
  const auto c = static_cast<std::int64_t>(norm.mean.size());
  auto mean = torch::tensor(norm.mean, torch::kDouble), std = torch::tensor(norm.std, torch::kDouble);
  impl_->scale = (1.0 / (255.0 * std)).to(torch::kFloat).view({1, c, 1, 1}).to(device);
  impl_->shift = (mean / std).to(torch::kFloat).view({1, c, 1, 1}).to(device);
  impl_->norm = std::move(norm);
  impl_->device = device;
}

bool BatchPipeline::augments() const { return impl_->augment.any(); }

torch::Tensor BatchPipeline::prepare(const torch::Tensor& images_u8, bool train, at::Generator& gen) const {
  const Impl& p = *impl_;
  if (!images_u8.defined() || images_u8.dim() != 4 || images_u8.scalar_type() != torch::kUInt8) {
    throw DataError("batch: expected uint8 images [B, C, H, W]");
  }
  if (images_u8.size(1) != p.scale.size(1)) {
    throw DataError("batch: images have " + std::to_string(images_u8.size(1)) + " channels but the normalization has " +
                    std::to_string(p.scale.size(1)));
  }
  auto x = images_u8.to(p.device);
  if (x.size(0) == 0) return x.to(torch::kFloat);
  const AugmentOptions& a = p.augment;
  // Geometric augmentation on uint8 (a quarter of the memory traffic of float).
  if (train && a.random_crop) x = random_crop(x, *a.random_crop, gen);
  if (train && a.horizontal_flip) x = random_horizontal_flip(x, gen);
  x = x.to(torch::kFloat).mul_(p.scale).sub_(p.shift);
  if (train && a.cutout) x = cutout(x, *a.cutout, gen);
  if (train && a.random_erasing) x = random_erasing(x, *a.random_erasing, gen);
  return x;
}

torch::Tensor BatchPipeline::batch(const ImageSet& set, const torch::Tensor& indices, bool train,
                                   at::Generator& gen) const {
  // Images may live on the training device (trainer keeps them there on CUDA when they fit).
  return prepare(set.images.index_select(0, indices.to(set.images.device(), torch::kInt64)), train, gen);
}

}  // namespace cnnkit
