// Test support for the export tests: random-weight checkpoints written with save_checkpoint
// (no training needed), cnnkit's own logits for a batch of images, tensors saved for Python,
// and the python3 with torch that the Python-side checks run under.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>
#include <nlohmann/json.hpp>

#include "cnnkit/data/dataset.h"
#include "cnnkit/export/python_tool.h"
#include "cnnkit/model/model.h"

namespace cnnkit::test {

// The python3 that can import torch ("" when none: such tests skip).
std::string python_with_torch();
// Runs `python ARGS...` with that interpreter.
ProcessResult run_python(const std::vector<std::string>& args);

// Gives every parameter and batch-norm statistic of `model` non-trivial values (biases too,
// running means/variances away from 0/1), deterministically from `seed`.
void randomize_weights(Model& model, std::uint64_t seed);

// Default metadata for a model with `classes` outputs and `channels` input channels.
std::vector<std::string> class_names_for(std::int64_t classes);
Normalization normalization_for(std::int64_t channels);

// Resolves `doc`, builds it with random weights and writes a checkpoint to `path`.
void write_random_checkpoint(const nlohmann::json& doc, const std::string& path, std::uint64_t seed);

// cnnkit's logits for uint8 images [N, C, H, W] from a checkpoint, through the same path as
// evaluate and predict (load_trained_model, BatchPipeline, forward). `normalized` receives the
// network's input when not null.
torch::Tensor cnnkit_logits(const std::string& checkpoint, const torch::Tensor& images_u8,
                            torch::Tensor* normalized = nullptr);

// Random uint8 images [n, C, H, W] for a checkpoint's input shape.
torch::Tensor random_images(const Shape& input, std::int64_t n, std::uint64_t seed);

// torch::pickle_save of {name: tensor}: Python's torch.load reads it as a dict.
void save_tensor_dict(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors);

// A config document {"name", "input", "layers"}.
nlohmann::json model_config(const std::string& name, std::int64_t c, std::int64_t h, std::int64_t w,
                            const nlohmann::json& layers);

}  // namespace cnnkit::test

namespace cnnkit::test {

struct ExportCase {
  std::string name;    // also the folder name
  nlohmann::json doc;  // the config document
};

// One case per registered layer type (its example, between the input and flatten + dense 5),
// then cases for the options that change what the layers compute: asymmetric and explicit
// padding, dilation, groups, no bias, batch norm inside conv2d/dense, batch norm on flat input,
// every pooling geometry, activations with alpha, residual blocks with identity and projection
// shortcuts (with and without batch norm, linear activation, nested, stateless bodies) and
// layer names that are not Python identifiers.
std::vector<ExportCase> layer_cases();

// The seed configs (configs/mnist.json, cifar.json, cifar_bn.json) and a residual network.
std::vector<ExportCase> seed_cases();

}  // namespace cnnkit::test
