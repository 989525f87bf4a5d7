// The per-layer-type lowering table behind lower_model (module_tree.h): one entry per config
// layer type that the exporters support. A new layer type needs an entry here (and the export
// test that walks the layer registry fails until it has one).
#pragma once
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "cnnkit/export/module_tree.h"
#include "cnnkit/layers/layer_registry.h"

namespace cnnkit {

// Lowers one config layer; `name` is its child name in the parent, `key` its state-dict prefix.
// Throws ExportError naming the layer when its type has no lowering.
ModuleNode lower_layer(const BuiltLayer& layer, const std::string& name, const std::string& key);

// Lowers a LibTorch module by its exact class: the standard modules cnnkit's layers are made
// of, cnnkit's LayerStack (a Sequence of its children) and FastDropout. Throws ExportError
// naming `owner` and the class for anything else.
ModuleNode lower_module(const torch::nn::Module& module, const std::string& name, const std::string& key,
                        const BuiltLayer& owner);

}  // namespace cnnkit
