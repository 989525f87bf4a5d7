// Optimizers: a registry with one file per type (train/optimizers/). Each type states the keys
// it takes, validates them and fills in its defaults when the config is resolved, so the
// resolved config (--print-config, checkpoints) shows exactly the settings that apply.
//
//   "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": true, "weight_decay": 5e-4}
//
// Keys every type takes: type, lr, weight_decay. A key that belongs to another type is an error
// naming the types that take it (in a config stored by an older checkpoint it is dropped).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <torch/optim/optimizer.h>

#include "cnnkit/config/config_view.h"
#include "cnnkit/core/registry.h"

namespace cnnkit {

class OptimizerType {
 public:
  virtual ~OptimizerType() = default;
  virtual std::string doc() const = 0;
  // The keys this type takes besides type, lr and weight_decay.
  virtual std::vector<std::string> keys() const = 0;
  virtual double default_lr() const { return 1e-3; }
  virtual double default_weight_decay() const { return 0.0; }
  // Validates this type's own keys of `section`; returns them with defaults filled in.
  virtual json resolve(const ConfigView& section) const = 0;
  virtual std::unique_ptr<torch::optim::Optimizer> make(const std::vector<torch::Tensor>& params,
                                                        const json& resolved) const = 0;
};

Registry<OptimizerType>& optimizer_registry();

template <typename T>
struct OptimizerRegistrar {
  explicit OptimizerRegistrar(const std::string& name) { optimizer_registry().add(name, std::make_unique<T>()); }
};
#define CNNKIT_REGISTER_OPTIMIZER(name, Type) \
  static ::cnnkit::OptimizerRegistrar<Type> cnnkit_optimizer_registrar_##Type(name)

// The resolved "optimizer" object: {"type", "lr", "weight_decay", ...the type's keys}.
json resolve_optimizer(const std::optional<ConfigView>& section);

// Builds the optimizer a resolved "optimizer" object describes.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<torch::Tensor>& params, const json& resolved);
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace cnnkit
