// Model: the built network (one top-level torch::nn::Sequential, one child per config layer)
// plus what the builder learned about each layer: names, shapes, cost. Built from a resolved
// config; layer i of the config is child i of `net` and row i of the summary.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cnnkit/layers/layer_stack.h"

#include "cnnkit/config/config.h"
#include "cnnkit/layers/layer_registry.h"

namespace cnnkit {

struct LayerRef {
  std::string path;  // "3" or "3.1" (residual body)
  const BuiltLayer* layer;
};

class Model {
 public:
  LayerStack net;
  std::vector<BuiltLayer> layers;
  Shape input;

  Shape output() const { return layers.back().output; }
  std::int64_t num_outputs() const { return output().numel(); }
  // Every layer, nested ones too, in order, with their addresses ("0", "3", "3.1", ...).
  std::vector<LayerRef> all_layers() const;
  // By address ("3", "3.1") or by name. Throws UsageError listing the valid range and names.
  LayerRef find_layer(const std::string& address) const;
};

// Builds the model from a resolved config's input, init and layers sections (shape
// inference; throws ShapeError naming the layer and both shapes). A model whose float32
// parameters plus one image's activations exceed model_memory_limit() (the machine's memory)
// is refused with ConfigError and the estimate before its weights are allocated.
Model build_model(const Config& config);

// Parameter counts: trainable parameters, and non-trainable state counted as Keras does
// (batch-norm running mean and variance).
struct ParamCount {
  std::int64_t trainable = 0;
  std::int64_t non_trainable = 0;
  std::int64_t total() const { return trainable + non_trainable; }
};
ParamCount count_parameters(const torch::nn::Module& module);

}  // namespace cnnkit
