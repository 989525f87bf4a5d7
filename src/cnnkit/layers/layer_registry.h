// The layer registry (Caffe's layer factory): every layer type lives in one source file under
// layers/ and registers itself with a static CNNKIT_REGISTER_LAYER(...). The builder asks the
// registry to resolve (validate + fill defaults) and build each config layer.
//
// A config layer is {"type": T, "name": optional, ...T's keys}. Building it takes the input
// shape and returns ONE module (a child of the model's top-level Sequential), its output
// shape and its cost; shapes are inferred here, so configs never state input sizes.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <torch/nn/modules/container/any.h>

#include "cnnkit/config/config_view.h"
#include "cnnkit/core/size_math.h"
#include "cnnkit/layers/shape.h"

namespace cnnkit {

// Keras-style automatic names: conv2d, conv2d_1, ...; explicit names are kept and must be unique.
struct ResolveContext {
  std::map<std::string, int> counters;
  std::set<std::string> used;
  std::string next_name(const std::string& type);
};

// What a model will cost in memory, counted while it is built, so that an absurd config is
// refused before its weights are allocated: float32 parameters (and batch-norm statistics) of
// every layer, plus the float32 input and outputs of every layer for one image.
// The memory a model may need: this machine's physical memory unless set lower (fuzzers).
std::int64_t model_memory_limit();
void set_model_memory_limit(std::int64_t bytes);  // <= 0: back to the physical memory

struct MemoryBudget {
  std::int64_t limit_bytes = model_memory_limit();
  std::int64_t param_count = 0;               // saturating sums (core/size_math.h)
  std::int64_t activation_bytes = 0;
  std::int64_t total_bytes() const { return sat_add(sat_mul(param_count, 4), activation_bytes); }
};

struct BuildContext {
  std::string init = "default";  // model-wide weight initialisation, a layer may override it
  // Shared by every layer of one model (copies of the context share it).
  std::shared_ptr<MemoryBudget> budget = std::make_shared<MemoryBudget>();
};

// Layers with weights call this with the number of values they are about to allocate
// (parameters and buffers, as count_parameters counts them), computed with sat_mul/sat_add,
// BEFORE creating their modules. Throws ConfigError at `layer` when the model would no longer
// fit in the budget, with the estimate.
void reserve_parameters(const ConfigView& layer, const BuildContext& ctx, std::int64_t count);
// The same for one image's activations (build_layer calls it for every layer's output).
void reserve_activations(const ConfigView& at, const BuildContext& ctx, std::int64_t bytes, const std::string& what);

// One built config layer.
struct BuiltLayer {
  std::string name;
  std::string type;
  torch::nn::AnyModule module;
  Shape input;
  Shape output;
  std::int64_t macs = 0;             // multiply-adds per example (conv and dense work), saturating
  std::int64_t param_count = 0;      // what the layer (and its children) reserved in the budget
  std::vector<BuiltLayer> children;  // nested layers (residual body), addressable as "i.j"
  json params;                       // the resolved config of this layer
};

class LayerType {
 public:
  virtual ~LayerType() = default;
  virtual std::string type() const = 0;
  // One line saying what the layer computes and its output-size rule.
  virtual std::string doc() const = 0;
  // Keys this type accepts besides "type" and "name".
  virtual std::vector<std::string> keys() const = 0;
  // Example parameters (without "type"), used by the docs and the registry-wide test.
  virtual json example() const = 0;
  // An input shape the example accepts.
  virtual Shape example_input() const { return Shape::spatial(3, 12, 12); }
  // Validates the parameters and returns them with defaults filled in.
  virtual json resolve(const ConfigView& params, ResolveContext& ctx) const = 0;
  // Builds from resolved parameters. Throws ShapeError when the input shape does not fit.
  // Calls reserve_parameters() before allocating any weights.
  virtual BuiltLayer build(const ConfigView& params, const Shape& input, const BuildContext& ctx) const = 0;
};

class LayerRegistry {
 public:
  static LayerRegistry& instance();
  // Refuses a type that is already registered (std::logic_error).
  void add(std::unique_ptr<LayerType> type);
  const LayerType* find(const std::string& type) const;
  std::vector<std::string> types() const;

 private:
  std::map<std::string, std::unique_ptr<LayerType>> types_;
};

// Resolve/build one config layer or a list of them (used by the model builder and by layers
// that nest others, like residual).
json resolve_layer(const ConfigView& layer, ResolveContext& ctx);
json resolve_layer_list(const ConfigView& list, ResolveContext& ctx);
BuiltLayer build_layer(const ConfigView& layer, const Shape& input, const BuildContext& ctx);
std::vector<BuiltLayer> build_layer_list(const ConfigView& list, const Shape& input, const BuildContext& ctx);

template <typename T>
struct LayerRegistrar {
  LayerRegistrar() { LayerRegistry::instance().add(std::make_unique<T>()); }
};

#define CNNKIT_REGISTER_LAYER(Type) static ::cnnkit::LayerRegistrar<Type> cnnkit_layer_registrar_##Type

}  // namespace cnnkit
