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
#include "cnnkit/layers/shape.h"

namespace cnnkit {

// Keras-style automatic names: conv2d, conv2d_1, ...; explicit names are kept and must be unique.
struct ResolveContext {
  std::map<std::string, int> counters;
  std::set<std::string> used;
  std::string next_name(const std::string& type);
};

struct BuildContext {
  std::string init = "default";  // model-wide weight initialisation, a layer may override it
};

// One built config layer.
struct BuiltLayer {
  std::string name;
  std::string type;
  torch::nn::AnyModule module;
  Shape input;
  Shape output;
  std::int64_t macs = 0;             // multiply-adds per example (conv and dense work)
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
