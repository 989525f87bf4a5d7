// Optimizers: a registry with one file per type (train/optimizers/). Each type states the keys
// it takes, validates them and fills in its defaults when the config is resolved, so the
// resolved config (--print-config, checkpoints) shows exactly the settings that apply.
//
//   "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": true, "weight_decay": 5e-4}
//
// Keys every type takes: type, lr, weight_decay, and two optional ones:
//   lr_batch_size  the linear scaling rule: lr is meant for batches of this many images, and the
//                  rate used is lr · batch_size / lr_batch_size (TrainingConfig::lr())
//   groups         per-parameter-group settings {"norm": {...}, "bias": {...}}, each
//                  {"lr_scale": 1, "weight_decay": <the optimizer's>}: "norm" holds the batch-norm
//                  γ and β, "bias" the biases of conv2d and dense layers; other parameters (and
//                  a group that is not listed) use the optimizer's own settings
// A key that belongs to another type is an error naming the types that take it (in a config
// stored by an older checkpoint it is dropped). Frozen parameters (requires_grad false) are not
// given to the optimizer.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>
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

// The parameter groups of `net` under a resolved "optimizer" object, in a fixed order: the
// rest first, then "norm", then "bias"; empty groups are left out. Trainable parameters only.
struct ParamGroup {
  std::string name;  // "default", "norm" or "bias"
  std::vector<torch::Tensor> params;
  double lr_scale = 1.0;
  double weight_decay = 0.0;
};
std::vector<ParamGroup> parameter_groups(torch::nn::Module& net, const json& resolved);

// The optimizer over `net`'s trainable parameters, in the groups above. `lr_scales` (optional)
// receives each group's lr_scale, for set_learning_rate.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(torch::nn::Module& net, const json& resolved,
                                                        std::vector<double>* lr_scales = nullptr);
// One group holding `params` with the optimizer's own settings ("groups" is ignored).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<torch::Tensor>& params, const json& resolved);
// Sets group i's rate to lr · lr_scales[i] (1 where lr_scales has no entry).
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr, const std::vector<double>& lr_scales = {});

}  // namespace cnnkit
