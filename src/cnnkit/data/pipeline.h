// The per-batch path from uint8 images to the model's input, vectorised on the device:
// gather by index -> to device -> float in [0, 1] -> normalise -> (training only) augment.
// Random choices (crop offsets, flips, erase boxes) are drawn from an explicit CPU generator,
// so the same seed gives the same batches on any device.
#pragma once
#include <ATen/core/Generator.h>
#include <c10/core/Device.h>
#include <torch/types.h>

#include "cnnkit/config/config.h"
#include "cnnkit/data/dataset.h"

namespace cnnkit {

class BatchPipeline {
 public:
  // `config`'s data section gives the augmentation; `norm` the resolved normalisation.
  BatchPipeline(const Config& config, Normalization norm, c10::Device device);

  // uint8 [B, C, H, W] (any device) -> float [B, C, H, W] on the device, normalised;
  // augmented when `train` is true.
  torch::Tensor prepare(const torch::Tensor& images_u8, bool train, at::Generator& gen) const;
  // Gathers `indices` (int64, CPU) from `set` and prepares them.
  torch::Tensor batch(const ImageSet& set, const torch::Tensor& indices, bool train, at::Generator& gen) const;
  bool augments() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace cnnkit
