#include "cnnkit/export/pytorch.h"

#include <torch/serialize.h>

#include <fstream>

#include "cnnkit/core/atomic_file.h"
#include "cnnkit/export/export_error.h"
#include "cnnkit/export/source_text.h"

namespace cnnkit {
namespace {

std::string pad(int indent) { return std::string(4 * indent, ' '); }

struct Uses {
  bool residual = false;
  bool masked_avg_pool = false;
  bool scale = false;
};

std::string activation_module(const ActivationOp& a) {
  if (a.function == "relu") return "nn.ReLU()";
  if (a.function == "leaky_relu") return "nn.LeakyReLU(negative_slope=" + float_literal(a.alpha) + ")";
  if (a.function == "elu") return "nn.ELU(alpha=" + float_literal(a.alpha) + ")";
  if (a.function == "gelu")
    return a.approximate == "none" ? "nn.GELU()" : "nn.GELU(approximate=" + string_literal(a.approximate) + ")";
  if (a.function == "silu") return "nn.SiLU()";
  if (a.function == "sigmoid") return "nn.Sigmoid()";
  if (a.function == "tanh") return "nn.Tanh()";
  if (a.function == "softmax") return "nn.Softmax(dim=" + std::to_string(a.dim) + ")";
  if (a.function == "log_softmax") return "nn.LogSoftmax(dim=" + std::to_string(a.dim) + ")";
  throw ExportError("export: activation '" + a.function + "' has no PyTorch rendering");
}

std::string render(const ModuleNode& n, int indent, Uses& uses);

std::string render_children(const ModuleNode& n, int indent, Uses& uses) {
  if (n.children.empty()) return "nn.Sequential()";
  std::string s = "nn.Sequential(OrderedDict([\n";
  for (const auto& c : n.children) {
    if (!c.note.empty()) s += pad(indent + 1) + "# " + c.note + "\n";
    s += pad(indent + 1) + "(" + string_literal(c.name) + ", " + render(c, indent + 1, uses) + "),\n";
  }
  return s + pad(indent) + "]))";
}

std::string render(const ModuleNode& n, int indent, Uses& uses) {
  return std::visit(
      Overloaded{
          [&](const Conv2dOp& c) {
            std::string s = "nn.Conv2d(" + std::to_string(c.in_channels) + ", " + std::to_string(c.out_channels) +
                            ", kernel_size=" + pair_tuple(c.kernel) + ", stride=" + pair_tuple(c.stride) +
                            ", padding=" + pair_tuple(c.padding);
            if (c.dilation != IntPair{1, 1}) s += ", dilation=" + pair_tuple(c.dilation);
            if (c.groups != 1) s += ", groups=" + std::to_string(c.groups);
            if (!c.bias) s += ", bias=False";
            return s + ")";
          },
          [&](const LinearOp& l) {
            return "nn.Linear(" + std::to_string(l.in_features) + ", " + std::to_string(l.out_features) +
                   (l.bias ? "" : ", bias=False") + ")";
          },
          [&](const BatchNormOp& b) {
            std::string s = "nn.BatchNorm" + std::to_string(b.dims) + "d(" + std::to_string(b.features);
            if (b.eps != 1e-5) s += ", eps=" + float_literal(b.eps);
            if (!b.momentum)
              s += ", momentum=None";
            else if (*b.momentum != 0.1)
              s += ", momentum=" + float_literal(*b.momentum);
            return s + ")";
          },
          [&](const PadOp& p) {
            std::string sides = "(" + std::to_string(p.left) + ", " + std::to_string(p.right) + ", " +
                                std::to_string(p.top) + ", " + std::to_string(p.bottom) + ")";
            return p.value == 0.0 ? "nn.ZeroPad2d(" + sides + ")"
                                  : "nn.ConstantPad2d(" + sides + ", " + float_literal(p.value) + ")";
          },
          [&](const MaxPoolOp& p) {
            std::string s = "nn.MaxPool2d(kernel_size=" + pair_tuple(p.kernel) + ", stride=" + pair_tuple(p.stride) +
                            ", padding=" + pair_tuple(p.padding);
            if (p.dilation != IntPair{1, 1}) s += ", dilation=" + pair_tuple(p.dilation);
            if (p.ceil_mode) s += ", ceil_mode=True";
            return s + ")";
          },
          [&](const AvgPoolOp& p) {
            std::string s = "nn.AvgPool2d(kernel_size=" + pair_tuple(p.kernel) + ", stride=" + pair_tuple(p.stride) +
                            ", padding=" + pair_tuple(p.padding);
            if (p.ceil_mode) s += ", ceil_mode=True";
            if (!p.count_include_pad) s += ", count_include_pad=False";
            return s + ")";
          },
          [&](const MaskedAvgPoolOp& p) {
            uses.masked_avg_pool = true;
            return "MaskedAvgPool2d((" + std::to_string(p.left) + ", " + std::to_string(p.right) + ", " +
                   std::to_string(p.top) + ", " + std::to_string(p.bottom) + "), kernel_size=" + pair_tuple(p.kernel) +
                   ", stride=" + pair_tuple(p.stride) + ")";
          },
          [&](const AdaptiveAvgPoolOp& p) { return "nn.AdaptiveAvgPool2d(" + pair_tuple(p.output) + ")"; },
          [&](const FlattenOp& f) {
            if (f.start_dim == 1 && f.end_dim == -1) return std::string("nn.Flatten()");
            return "nn.Flatten(" + std::to_string(f.start_dim) + ", " + std::to_string(f.end_dim) + ")";
          },
          [&](const ActivationOp& a) { return activation_module(a); },
          [&](const DropoutOp& d) {
            return std::string(d.spatial ? "nn.Dropout2d" : "nn.Dropout") + "(p=" + float_literal(d.rate) + ")";
          },
          [&](const IdentityOp&) { return std::string("nn.Identity()"); },
          [&](const ScaleOp& s) {
            uses.scale = true;
            return "Scale(" + float_literal(s.factor) + ")";
          },
          [&](const SequenceOp&) { return render_children(n, indent, uses); },
          [&](const ResidualOp&) {
            uses.residual = true;
            std::string s = "Residual(\n";
            s += pad(indent + 1) + "body=" + render(n.children.at(0), indent + 1, uses) + ",\n";
            s += pad(indent + 1) + "shortcut=" + render(n.children.at(1), indent + 1, uses) + ",\n";
            s += pad(indent + 1) + "activation=" +
                 (n.children.size() > 2 ? render(n.children[2], indent + 1, uses) : std::string("nn.Identity()")) +
                 ",\n";
            return s + pad(indent) + ")";
          },
      },
      n.op);
}

const char* kResidualClass = R"(

class Residual(nn.Module):
    """activation(body(x) + shortcut(x)); an empty shortcut is the identity."""

    def __init__(self, body, shortcut, activation):
        super().__init__()
        self.body = body
        self.shortcut = shortcut
        self.activation = activation

    def forward(self, x):
        return self.activation(self.body(x) + self.shortcut(x))
)";

const char* kScaleClass = R"(

class Scale(nn.Module):
    """y = factor * x with a fixed factor (cnnkit's scale layer)."""

    def __init__(self, factor):
        super().__init__()
        self.factor = factor

    def forward(self, x):
        return x * self.factor
)";

const char* kMaskedAvgPoolClass = R"(

class MaskedAvgPool2d(nn.Module):
    """Average pooling over zero padding (left, right, top, bottom) that averages the real
    cells only, as "same" average pooling does in Keras and cnnkit."""

    def __init__(self, padding, kernel_size, stride):
        super().__init__()
        self.padding = tuple(padding)
        self.kernel_size = tuple(kernel_size)
        self.stride = tuple(stride)

    def forward(self, x):
        ones = torch.ones_like(x[0:1, 0:1])
        total = F.avg_pool2d(F.pad(x, self.padding), self.kernel_size, self.stride)
        count = F.avg_pool2d(F.pad(ones, self.padding), self.kernel_size, self.stride)
        return total / count
)";

}  // namespace

std::string python_module_source(const ModuleTree& tree, const PythonModuleInfo& info) {
  Uses uses;
  const std::string network = render(tree.root, 1, uses);
  const Shape& in = tree.input;
  const std::string shape =
      std::to_string(in.channels()) + ", " + std::to_string(in.height()) + ", " + std::to_string(in.width());
  std::string s;
  s += "r\"\"\"The cnnkit model " + string_literal(info.model_name) + " as a PyTorch module (generated by cnnkit " +
       CNNKIT_VERSION + ").\n\n";
  s += "Exported from " + info.source + "\n(sha256 " + info.source_sha256 + ").\n\n";
  s += "Input: float images [N, " + shape +
       "] (NCHW) with values in [0, 1], passed through\n"
       "normalize(); output: [N, " +
       std::to_string(tree.output.numel()) +
       "] logits, one per class in CLASS_NAMES.\n\n"
       "    import model\n"
       "    net = model.load()                        # build() + weights.pt, in eval mode\n"
       "    logits = net(model.normalize(images))\n"
       "    names = [model.CLASS_NAMES[i] for i in logits.argmax(1)]\n\n"
       "The parameter and buffer names of build() are the keys of weights.pt, so the network\n"
       "fine-tunes like any torch.nn.Module; save it back with torch.save(dict(net.state_dict()), path).\n"
       "\"\"\"\n";
  s += "import os\nfrom collections import OrderedDict\n\nimport torch\nimport torch.nn.functional as F\nfrom torch "
       "import nn\n\n";
  s += "CLASS_NAMES = " + string_list(info.class_names) + "\n";
  s += "INPUT_SHAPE = (" + shape + ")  # channels, height, width\n";
  s += "MEAN = " + float_list(info.normalization.mean) + "\n";
  s += "STD = " + float_list(info.normalization.std) + "\n\n\n";
  s +=
      "def normalize(images):\n"
      "    \"\"\"Float images [N, C, H, W] in [0, 1] -> the network's input: (images - MEAN) / STD per channel.\"\"\"\n"
      "    mean = torch.tensor(MEAN, dtype=images.dtype, device=images.device).view(1, -1, 1, 1)\n"
      "    std = torch.tensor(STD, dtype=images.dtype, device=images.device).view(1, -1, 1, 1)\n"
      "    return (images - mean) / std\n";
  if (uses.residual) s += kResidualClass;
  if (uses.masked_avg_pool) s += kMaskedAvgPoolClass;
  if (uses.scale) s += kScaleClass;
  s += "\n\ndef build():\n"
       "    \"\"\"The network, freshly initialised by PyTorch; its state dict has the keys of weights.pt.\"\"\"\n"
       "    return " +
       network + "\n";
  s += "\n\ndef load(weights=None, device=\"cpu\"):\n"
       "    \"\"\"build() with the exported weights (weights.pt next to this file by default), in eval mode.\"\"\"\n"
       "    if weights is None:\n"
       "        weights = os.path.join(os.path.dirname(os.path.abspath(__file__)), \"weights.pt\")\n"
       "    net = build()\n"
       "    net.load_state_dict(torch.load(weights, map_location=device))\n"
       "    return net.to(device).eval()\n";
  s += "\n\nif __name__ == \"__main__\":\n"
       "    net = load()\n"
       "    logits = net(normalize(torch.rand(2, *INPUT_SHAPE)))\n"
       "    print(\"ok:\", tuple(logits.shape), \"logits for\", len(CLASS_NAMES), \"classes\")\n";
  return s;
}

c10::Dict<std::string, at::Tensor> state_dict(const ModuleTree& tree) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [key, t] : tree.state) dict.insert(key, t);
  return dict;
}

void write_state_dict(const std::filesystem::path& path, const ModuleTree& tree) {
  const std::vector<char> bytes = torch::pickle_save(state_dict(tree));
  try {
    write_file_atomically(path, std::string_view(bytes.data(), bytes.size()));
  } catch (const Error& e) {
    throw ExportError(e.what());
  }
}

}  // namespace cnnkit
