#include "cnnkit/data/pipeline.h"

#include "cnnkit/core/error.h"
#include "cnnkit/data/augment.h"
#include "cnnkit/data/data_config.h"
#include "cnnkit/data/normalization.h"

namespace cnnkit {

struct BatchPipeline::Impl {
  AugmentOptions augment;
  Normalization norm;
  c10::Device device{c10::kCPU};
  NormalizationMap map;
};

BatchPipeline::BatchPipeline(const Config& config, Normalization norm, c10::Device device)
    : impl_(std::make_shared<Impl>()) {
  if (config.has_section("data")) impl_->augment = augment_options_from_json(config.resolved()["data"]["augment"]);
  impl_->map = normalization_map(norm, device);
  impl_->norm = std::move(norm);
  impl_->device = device;
}

bool BatchPipeline::augments() const { return impl_->augment.any(); }

torch::Tensor BatchPipeline::prepare(const torch::Tensor& images_u8, bool train, at::Generator& gen) const {
  const Impl& p = *impl_;
  if (!images_u8.defined() || images_u8.dim() != 4 || images_u8.scalar_type() != torch::kUInt8) {
    throw DataError("batch: expected uint8 images [B, C, H, W]");
  }
  if (images_u8.size(1) != p.map.scale.size(1)) {
    throw DataError("batch: images have " + std::to_string(images_u8.size(1)) + " channels but the normalization has " +
                    std::to_string(p.map.scale.size(1)));
  }
  auto x = images_u8.to(p.device);
  if (x.size(0) == 0) return x.to(torch::kFloat);
  const AugmentOptions& a = p.augment;
  // Geometric augmentation on uint8 (a quarter of the memory traffic of float).
  if (train && a.random_crop) x = random_crop(x, *a.random_crop, gen);
  if (train && a.horizontal_flip) x = random_horizontal_flip(x, gen);
  x = normalize_images(x, p.map);
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
