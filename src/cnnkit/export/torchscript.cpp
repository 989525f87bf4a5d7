#include "cnnkit/export/torchscript.h"

#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/torch.h>

#include "cnnkit/export/export_error.h"
#include "cnnkit/export/source_text.h"

namespace cnnkit {
namespace {

namespace jit = torch::jit;
using Lines = std::vector<std::string>;

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string activation_expr(const ActivationOp& a, const std::string& v) {
  if (a.function == "relu") return "torch.relu(" + v + ")";
  if (a.function == "leaky_relu") return "torch.leaky_relu(" + v + ", " + float_literal(a.alpha) + ")";
  if (a.function == "elu") return "torch.elu(" + v + ", " + float_literal(a.alpha) + ", 1.0, 1.0)";
  if (a.function == "gelu") return "torch.gelu(" + v + ", approximate=" + string_literal(a.approximate) + ")";
  if (a.function == "silu") return "torch.silu(" + v + ")";
  if (a.function == "sigmoid") return "torch.sigmoid(" + v + ")";
  if (a.function == "tanh") return "torch.tanh(" + v + ")";
  if (a.function == "softmax") return "torch.softmax(" + v + ", " + std::to_string(a.dim) + ")";
  if (a.function == "log_softmax") return "torch.log_softmax(" + v + ", " + std::to_string(a.dim) + ")";
  throw ExportError("export: activation '" + a.function + "' has no TorchScript rendering");
}

std::string class_name(const ModuleNode& n) {
  return std::visit(Overloaded{[](const Conv2dOp&) { return std::string("Conv2d"); },
                               [](const LinearOp&) { return std::string("Linear"); },
                               [](const BatchNormOp& b) { return "BatchNorm" + std::to_string(b.dims) + "d"; },
                               [](const SequenceOp&) { return std::string("Sequential"); },
                               [](const ResidualOp&) { return std::string("Residual"); },
                               [](const auto&) { return std::string("Module"); }},
                    n.op);
}

class Builder {
 public:
  explicit Builder(const ModuleTree& tree) : tree_(tree), cu_(std::make_shared<jit::CompilationUnit>()) {}

  // A module holding `node`'s own tensors, its stateful descendants as submodules, and a
  // forward computing the node; `prelude` runs first (the root's normalisation).
  jit::Module build(const ModuleNode& node, const std::string& cls, const Lines& prelude,
                    const std::function<void(jit::Module&)>& attributes = nullptr) {
    jit::Module m(c10::QualifiedName("__torch__.cnnkit." + cls), cu_, /*shouldMangle=*/true);
    m.register_attribute("training", c10::BoolType::get(), false);
    if (attributes) attributes(m);
    for (const auto& p : node.parameters) {
      torch::Tensor t = tree_.tensor(node.key_of(p)).clone();
      t.set_requires_grad(true);
      m.register_parameter(p, t, /*is_buffer=*/false);
    }
    for (const auto& b : node.buffers) m.register_buffer(b, tree_.tensor(node.key_of(b)).clone());
    Lines lines = prelude;
    body(node, "x", lines);
    lines.push_back("return x");
    std::string src = "def forward(self, x: Tensor) -> Tensor:\n";
    for (const auto& l : lines) src += "    " + l + "\n";
    for (auto& [name, child] : pending_.back()) m.register_module(name, child);
    pending_.pop_back();
    try {
      m.define(src);
    } catch (const c10::Error& e) {
      throw ExportError("export: generated TorchScript for '" + (node.key.empty() ? "model" : node.key) +
                        "' does not compile (a bug in src/cnnkit/export): " + first_line(e.what_without_backtrace()));
    }
    return m;
  }

  jit::Module root(const Lines& prelude, const std::function<void(jit::Module&)>& attributes) {
    pending_.emplace_back();
    return build(tree_.root, "Model", prelude, attributes);
  }

 private:
  std::string fresh(const std::string& base) { return base + std::to_string(++temp_); }

  // `v = node(v)`: a call of a submodule when the node holds tensors, else inline code.
  void emit(const ModuleNode& node, const std::string& v, Lines& lines) {
    if (!node.has_state()) {
      body(node, v, lines);
      return;
    }
    pending_.emplace_back();
    jit::Module child = build(node, class_name(node), {});
    pending_.back().emplace_back(node.name, child);
    lines.push_back(v + " = getattr(self, " + string_literal(node.name) + ").forward(" + v + ")");
  }

  // The computation of `node` on variable `v`; its own tensors are `self`'s.
  void body(const ModuleNode& node, const std::string& v, Lines& lines) {
    auto set = [&](const std::string& expr) { lines.push_back(v + " = " + expr); };
    std::visit(
        Overloaded{
            [&](const Conv2dOp& c) {
              set("torch.conv2d(" + v + ", self.weight, " + (c.bias ? "self.bias" : "None") + ", " +
                  pair_list(c.stride) + ", " + pair_list(c.padding) + ", " + pair_list(c.dilation) + ", " +
                  std::to_string(c.groups) + ")");
            },
            [&](const LinearOp& l) {
              set("torch.linear(" + v + ", self.weight, " + (l.bias ? "self.bias" : "None") + ")");
            },
            [&](const BatchNormOp& b) {
              // Eval semantics: running statistics, whatever self.training says.
              set("torch.batch_norm(" + v + ", self.weight, self.bias, self.running_mean, self.running_var, False, " +
                  float_literal(b.momentum.value_or(0.0)) + ", " + float_literal(b.eps) + ", True)");
            },
            [&](const PadOp& p) {
              set("torch.constant_pad_nd(" + v + ", " + int_list({p.left, p.right, p.top, p.bottom}) + ", " +
                  float_literal(p.value) + ")");
            },
            [&](const MaxPoolOp& p) {
              set("torch.max_pool2d(" + v + ", " + pair_list(p.kernel) + ", " + pair_list(p.stride) + ", " +
                  pair_list(p.padding) + ", " + pair_list(p.dilation) + ", " + (p.ceil_mode ? "True" : "False") + ")");
            },
            [&](const AvgPoolOp& p) {
              set("torch.avg_pool2d(" + v + ", " + pair_list(p.kernel) + ", " + pair_list(p.stride) + ", " +
                  pair_list(p.padding) + ", " + (p.ceil_mode ? "True" : "False") + ", " +
                  (p.count_include_pad ? "True" : "False") + ", None)");
            },
            [&](const MaskedAvgPoolOp& p) {
              const std::string pads = int_list({p.left, p.right, p.top, p.bottom});
              auto pooled = [&](const std::string& t) {
                return "torch.avg_pool2d(torch.constant_pad_nd(" + t + ", " + pads + ", 0.0), " + pair_list(p.kernel) +
                       ", " + pair_list(p.stride) + ", [0, 0], False, True, None)";
              };
              const std::string ones = fresh("ones");
              lines.push_back(ones + " = torch.ones_like(" + v + "[0:1, 0:1])");
              set(pooled(v) + " / " + pooled(ones));
            },
            [&](const AdaptiveAvgPoolOp& p) {
              set("torch.adaptive_avg_pool2d(" + v + ", " + pair_list(p.output) + ")");
            },
            [&](const FlattenOp& f) {
              set("torch.flatten(" + v + ", " + std::to_string(f.start_dim) + ", " + std::to_string(f.end_dim) + ")");
            },
            [&](const ActivationOp& a) { set(activation_expr(a, v)); },
            [&](const DropoutOp&) {},  // identity at evaluation
            [&](const IdentityOp&) {},
            [&](const ScaleOp& s) { set(v + " * " + float_literal(s.factor)); },
            [&](const SequenceOp&) {
              for (const auto& c : node.children) emit(c, v, lines);
            },
            [&](const ResidualOp& r) {
              // children: body, shortcut, [activation]
              const std::string skip = fresh("skip");
              lines.push_back(skip + " = " + v);
              emit(node.children.at(0), v, lines);
              if (!r.identity_shortcut) emit(node.children.at(1), skip, lines);
              set(v + " + " + skip);
              if (node.children.size() > 2) emit(node.children[2], v, lines);
            },
        },
        node.op);
  }

  const ModuleTree& tree_;
  std::shared_ptr<jit::CompilationUnit> cu_;
  std::vector<std::vector<std::pair<std::string, jit::Module>>> pending_;  // submodules per module being built
  int temp_ = 0;
};

}  // namespace

torch::jit::Module to_torchscript(const ModuleTree& tree, const TorchScriptOptions& options) {
  Lines prelude;
  if (options.normalize) {
    prelude = {"mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device).view([1, -1, 1, 1])",
               "std = torch.tensor(self.std, dtype=x.dtype, device=x.device).view([1, -1, 1, 1])",
               "x = (x - mean) / std"};
  }
  auto attributes = [&](jit::Module& m) {
    m.register_attribute("class_names", c10::ListType::ofStrings(), c10::List<std::string>(options.class_names));
    m.register_attribute("mean", c10::ListType::ofFloats(), c10::List<double>(options.normalization.mean));
    m.register_attribute("std", c10::ListType::ofFloats(), c10::List<double>(options.normalization.std));
    m.register_attribute("input_shape", c10::ListType::ofInts(), c10::List<std::int64_t>(tree.input.dims));
    m.register_attribute("normalizes_input", c10::BoolType::get(), options.normalize);
  };
  Builder builder(tree);
  jit::Module m = builder.root(prelude, attributes);
  m.eval();
  return m;
}

}  // namespace cnnkit
