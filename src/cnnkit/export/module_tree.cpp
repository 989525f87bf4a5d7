#include "cnnkit/export/module_tree.h"

#include <torch/torch.h>

#include <set>

#include "cnnkit/core/strings.h"
#include "cnnkit/export/export_error.h"
#include "cnnkit/export/layer_lowering.h"

namespace cnnkit {

bool ModuleNode::has_state() const {
  if (!parameters.empty() || !buffers.empty()) return true;
  for (const auto& c : children)
    if (c.has_state()) return true;
  return false;
}

const torch::Tensor& ModuleTree::tensor(const std::string& key) const {
  for (const auto& [k, t] : state)
    if (k == key) return t;
  throw ExportError("export: no tensor '" + key + "' in the model");
}

const std::vector<std::string>& reserved_module_names() {
  // dir(torch.nn.Sequential()) without the underscore names (layer names start with a letter),
  // plus the attributes cnnkit's TorchScript module adds.
  static const std::vector<std::string> names = {
      "T_destination", "add_module", "append", "apply", "bfloat16", "buffers", "children", "cpu", "cuda", "double",
      "dump_patches", "eval", "extend", "extra_repr", "float", "forward", "get_buffer", "get_extra_state",
      "get_parameter", "get_submodule", "half", "insert", "ipu", "load_state_dict", "modules", "named_buffers",
      "named_children", "named_modules", "named_parameters", "parameters", "pop", "register_backward_hook",
      "register_buffer", "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook",
      "register_load_state_dict_post_hook", "register_module", "register_parameter", "requires_grad_",
      "set_extra_state", "share_memory", "state_dict", "to", "to_empty", "train", "training", "type", "xpu",
      "zero_grad",
      // cnnkit's TorchScript attributes (torchscript.h)
      "class_names", "mean", "std", "input_shape", "normalizes_input"};
  return names;
}

namespace {

std::set<std::string> node_keys(const ModuleNode& n) {
  std::set<std::string> out;
  for (const auto& p : n.parameters) out.insert(n.key_of(p));
  for (const auto& b : n.buffers) out.insert(n.key_of(b));
  for (const auto& c : n.children) {
    auto sub = node_keys(c);
    out.insert(sub.begin(), sub.end());
  }
  return out;
}

void check_names(const std::vector<BuiltLayer>& layers) {
  const auto& reserved = reserved_module_names();
  for (const auto& l : layers) {
    if (std::find(reserved.begin(), reserved.end(), l.name) != reserved.end()) {
      throw ExportError("layer '" + l.name + "' (" + l.type + "): the name '" + l.name +
                        "' is taken by torch.nn.Module (or cnnkit's export attributes), so no exported module can "
                        "hold it; rename the layer in the config (\"name\")");
    }
    check_names(l.children);
  }
}

}  // namespace

ModuleTree lower_model(const Model& model) {
  check_names(model.layers);
  ModuleTree tree;
  tree.input = model.input;
  tree.output = model.output();
  tree.root.op = SequenceOp{};
  for (const auto& layer : model.layers) tree.root.children.push_back(lower_layer(layer, layer.name, layer.name));

  torch::NoGradGuard no_grad;
  for (const auto& p : model.net->named_parameters(true)) {
    tree.state.emplace_back(p.key(), p.value().detach().to(torch::kCPU).clone());
    tree.parameter_keys.push_back(p.key());
  }
  for (const auto& b : model.net->named_buffers(true))
    tree.state.emplace_back(b.key(), b.value().detach().to(torch::kCPU).clone());

  // Every tensor must be owned by exactly one node (the renderers register what nodes own).
  std::set<std::string> owned = node_keys(tree.root), held;
  for (const auto& [k, t] : tree.state) held.insert(k);
  if (owned != held) {
    std::vector<std::string> extra, missing;
    for (const auto& k : owned)
      if (!held.count(k)) extra.push_back(k);
    for (const auto& k : held)
      if (!owned.count(k)) missing.push_back(k);
    throw ExportError("export: the lowered model does not own the model's tensors (not owned: " + join(missing, ", ") +
                      "; unknown: " + join(extra, ", ") + "); this is a bug in src/cnnkit/export");
  }
  return tree;
}

}  // namespace cnnkit
