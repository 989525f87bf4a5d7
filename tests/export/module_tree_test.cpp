// Lowering and the TorchScript rendering, in C++ only: every registered layer type has a
// lowering; every layer case's TorchScript module, also after a save and torch::jit::load,
// computes what the model computes, holds exactly the model's state-dict keys and keeps eval
// semantics in train mode; unknown layer types and module classes fail naming them.
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <algorithm>
#include <set>

#include "cnnkit/export/export_error.h"
#include "cnnkit/export/module_tree.h"
#include "cnnkit/export/pytorch.h"
#include "cnnkit/export/source_text.h"
#include "cnnkit/export/torchscript.h"
#include "cnnkit/layers/layer_registry.h"
#include "cnnkit/layers/layer_stack.h"
#include "export/export_support.h"
#include "support/cli.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using namespace cnnkit::test;

namespace {

std::string export_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ExportError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<other: ") + e.what() + ">";
  }
  return "<no error>";
}

std::set<std::string> model_keys(const Model& m) {
  std::set<std::string> keys;
  for (const auto& p : m.net->named_parameters(true)) keys.insert(p.key());
  for (const auto& b : m.net->named_buffers(true)) keys.insert(b.key());
  return keys;
}

std::set<std::string> jit_keys(const torch::jit::Module& m) {
  std::set<std::string> keys;
  for (const auto& p : m.named_parameters(true)) keys.insert(p.name);
  for (const auto& b : m.named_buffers(true)) keys.insert(b.name);
  return keys;
}

struct Built {
  Model model;
  ModuleTree tree;
  torch::jit::Module ts;
};

Built build_case(const ExportCase& c, bool normalize = false) {
  Built b;
  b.model = build_model(resolve_doc(c.doc));
  randomize_weights(b.model, 7);
  b.model.net->eval();
  b.tree = lower_model(b.model);
  TorchScriptOptions o;
  o.normalize = normalize;
  o.normalization = normalization_for(b.model.input.channels());
  o.class_names = class_names_for(b.model.num_outputs());
  b.ts = to_torchscript(b.tree, o);
  return b;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

}  // namespace

TEST(ExportLowering, EveryRegisteredLayerTypeHasALowering) {
  const auto exportable = exportable_layer_types();
  for (const auto& type : LayerRegistry::instance().types()) {
    EXPECT_NE(std::find(exportable.begin(), exportable.end(), type), exportable.end())
        << "layer type '" << type << "' has no lowering in src/cnnkit/export/layer_lowerings.cpp";
  }
}

TEST(ExportLowering, EveryLayerCaseRendersToTorchScriptThatMatchesTheModel) {
  torch::NoGradGuard no_grad;
  const auto cases = layer_cases();
  ASSERT_GT(cases.size(), LayerRegistry::instance().types().size());
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Built b = build_case(c);
    torch::Tensor x = torch::randn(b.model.input.batched(3));
    torch::Tensor expected = b.model.net->forward(x);
    torch::Tensor got = b.ts.forward({x}).toTensor();
    ASSERT_EQ(got.sizes(), expected.sizes());
    EXPECT_LE(max_diff(got, expected), 1e-5);
    EXPECT_EQ(jit_keys(b.ts), model_keys(b.model));
    // Eval semantics whatever the mode: dropout stays off, batch norm keeps its statistics.
    b.ts.train();
    EXPECT_LE(max_diff(b.ts.forward({x}).toTensor(), expected), 1e-5);
    // The Python rendering covers every node too.
    PythonModuleInfo info;
    info.model_name = c.name;
    const std::string py = python_module_source(b.tree, info);
    EXPECT_NE(py.find("def build():"), std::string::npos);
  }
}

TEST(ExportLowering, SavedTorchScriptLoadsWithTorchJitLoadAndMatches) {
  torch::NoGradGuard no_grad;
  TempDir dir;
  for (const auto& c : seed_cases()) {
    SCOPED_TRACE(c.name);
    Built b = build_case(c, /*normalize=*/true);
    const std::string path = dir.str(c.name + ".ts");
    b.ts.save(path);
    torch::jit::Module loaded = torch::jit::load(path);
    torch::Tensor images = torch::rand(b.model.input.batched(2));
    const Normalization n = normalization_for(b.model.input.channels());
    const auto ch = b.model.input.channels();
    torch::Tensor x = (images - torch::tensor(n.mean).to(torch::kFloat).view({1, ch, 1, 1})) /
                      torch::tensor(n.std).to(torch::kFloat).view({1, ch, 1, 1});
    torch::Tensor expected = b.model.net->forward(x);
    EXPECT_LE(max_diff(loaded.forward({images}).toTensor(), expected), 1e-5);
    EXPECT_EQ(loaded.attr("class_names").toList().size(), static_cast<std::size_t>(b.model.num_outputs()));
    EXPECT_EQ(loaded.attr("input_shape").toIntVector(), b.model.input.dims);
    EXPECT_TRUE(loaded.attr("normalizes_input").toBool());
    EXPECT_EQ(jit_keys(loaded), model_keys(b.model));
  }
}

TEST(ExportLowering, LayerTypeWithoutALoweringFailsNamingIt) {
  Model m;
  m.input = Shape::spatial(1, 4, 4);
  BuiltLayer l;
  l.name = "odd";
  l.type = "mystery";
  l.module = torch::nn::AnyModule(torch::nn::Identity());
  l.input = l.output = m.input;
  m.layers.push_back(l);
  m.net->push_back(l.name, l.module);
  const std::string msg = export_error_of([&] { lower_model(m); });
  EXPECT_NE(msg.find("layer 'odd' (mystery)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("layer type 'mystery' cannot be exported"), std::string::npos) << msg;
  EXPECT_NE(msg.find("conv2d"), std::string::npos) << msg;  // lists the exportable types
}

namespace {
struct MysteryImpl : torch::nn::Module {
  torch::Tensor forward(const torch::Tensor& x) { return x * 2; }
};
TORCH_MODULE(Mystery);
}  // namespace

TEST(ExportLowering, UnknownModuleClassFailsNamingLayerAndClass) {
  Model m;
  m.input = Shape::spatial(1, 4, 4);
  LayerStack stack;
  stack->push_back("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 2, 3)));
  stack->push_back("odd", Mystery());
  BuiltLayer l;
  l.name = "conv2d";
  l.type = "conv2d";
  l.module = torch::nn::AnyModule(stack);
  m.layers.push_back(l);
  m.net->push_back(l.name, l.module);
  const std::string msg = export_error_of([&] { lower_model(m); });
  EXPECT_NE(msg.find("layer 'conv2d' (conv2d): cannot export module 'conv2d.odd'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("MysteryImpl"), std::string::npos) << msg;
}

TEST(ExportLowering, LayerNameTakenByTorchNnModuleFails) {
  json doc = model_config(
      "x", 1, 4, 4, std::vector<json>{{{"type", "flatten"}, {"name", "forward"}}, {{"type", "dense"}, {"units", 2}}});
  Model m = build_model(resolve_doc(doc));
  const std::string msg = export_error_of([&] { lower_model(m); });
  EXPECT_NE(msg.find("layer 'forward' (flatten)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("rename the layer"), std::string::npos) << msg;
}

TEST(ExportSourceText, FloatLiteralsReadBackExactly) {
  EXPECT_EQ(float_literal(0.1), "0.1");
  EXPECT_EQ(float_literal(1.0), "1.0");
  EXPECT_EQ(float_literal(1e-5), "1e-05");
  EXPECT_EQ(float_literal(-2.5), "-2.5");
  EXPECT_EQ(float_literal(-std::numeric_limits<double>::infinity()), "float(\"-inf\")");
  EXPECT_EQ(std::stod(float_literal(0.30000000000000004)), 0.30000000000000004);
  EXPECT_EQ(string_literal("a \"b\"\n"), "\"a \\\"b\\\"\\n\"");
}
