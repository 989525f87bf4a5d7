// The seed configs: exact output shapes, per-layer and total parameter counts, and cost, as
// the issue states them (MNIST 113,162 parameters, CIFAR 271,914 and about 58.66M FLOPs).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "cnnkit/config/config.h"
#include "cnnkit/model/model.h"
#include "cnnkit/model/summary.h"

using namespace cnnkit;

namespace {

struct Seed {
  Config config;
  Model model;
};

Seed load_seed(const std::string& name) {
  Config c = load_config(std::string(CNNKIT_SOURCE_DIR) + "/configs/" + name);
  Model m = build_model(c);
  return {std::move(c), std::move(m)};
}

std::vector<std::string> shapes(const Model& m) {
  std::vector<std::string> out;
  for (auto& l : m.layers) out.push_back(l.output.str());
  return out;
}

std::vector<std::int64_t> params(const Model& m) {
  std::vector<std::int64_t> out;
  for (auto& l : m.layers) out.push_back(count_parameters(*l.module.ptr()).total());
  return out;
}

}  // namespace

TEST(SeedConfigs, MnistShapesAndParams) {
  Seed s = load_seed("mnist.json");
  Model& m = s.model;
  EXPECT_EQ(shapes(m), (std::vector<std::string>{"28×28×32", "14×14×32", "14×14×32", "14×14×64", "7×7×64", "7×7×64",
                                                 "7×7×128", "4×4×128", "4×4×128", "2048", "10"}));
  EXPECT_EQ(params(m), (std::vector<std::int64_t>{320, 0, 0, 18496, 0, 0, 73856, 0, 0, 0, 20490}));
  ParamCount pc = count_parameters(*m.net);
  EXPECT_EQ(pc.total(), 113162);
  EXPECT_EQ(pc.trainable, 113162);
  EXPECT_EQ(pc.non_trainable, 0);
  EXPECT_EQ(m.input, Shape::spatial(1, 28, 28));
  EXPECT_EQ(m.num_outputs(), 10);
  EXPECT_EQ(m.net->size(), 11u);

  // The real network agrees with the inferred shapes.
  torch::NoGradGuard no_grad;
  m.net->eval();
  auto x = torch::randn({2, 1, 28, 28});
  for (std::size_t i = 0; i < m.net->size(); ++i) {
    x = m.layers[i].module.forward(x);
    EXPECT_EQ(x.sizes().vec(), m.layers[i].output.batched(2)) << "layer " << i;
  }
}

TEST(SeedConfigs, CifarShapesAndParams) {
  Seed s = load_seed("cifar.json");
  Model& m = s.model;
  EXPECT_EQ(shapes(m), (std::vector<std::string>{"32×32×32", "32×32×32", "16×16×32", "16×16×32", "16×16×64", "16×16×64",
                                                 "8×8×64", "8×8×64", "8×8×64", "8×8×64", "4×4×64", "4×4×64", "1024", "128",
                                                 "128", "10"}));
  EXPECT_EQ(params(m), (std::vector<std::int64_t>{896, 9248, 0, 0, 18496, 36928, 0, 0, 36928, 36928, 0, 0, 0, 131200, 0, 1290}));
  EXPECT_EQ(count_parameters(*m.net).total(), 271914);
  EXPECT_EQ(count_parameters(*m.net).non_trainable, 0);

  torch::NoGradGuard no_grad;
  m.net->eval();
  EXPECT_EQ(m.net->forward(torch::randn({3, 3, 32, 32})).sizes().vec(), (std::vector<std::int64_t>{3, 10}));
}

TEST(SeedConfigs, Cost) {
  Seed mnist = load_seed("mnist.json");
  auto sm = summarize(mnist.model, mnist.config.name());
  // conv 28·28·32·1·9 + 14·14·64·32·9 + 7·7·128·64·9, dense 2048·10.
  EXPECT_EQ(sm["macs_per_image"], 225792 + 3612672 + 3612672 + 20480);
  EXPECT_EQ(sm["flops_per_image"], 2 * (225792 + 3612672 + 3612672 + 20480));

  Seed cifar = load_seed("cifar.json");
  auto sc = summarize(cifar.model, cifar.config.name());
  EXPECT_EQ(sc["macs_per_image"], 29328640);
  EXPECT_EQ(sc["flops_per_image"], 58657280);  // "about 59 MFLOP per image" (DESIGN.md)
  std::vector<std::int64_t> macs;
  for (const auto& r : sc["layers"]) macs.push_back(r["macs"].get<std::int64_t>());
  EXPECT_EQ(macs, (std::vector<std::int64_t>{884736, 9437184, 0, 0, 4718592, 9437184, 0, 0, 2359296, 2359296, 0, 0, 0,
                                             131072, 0, 1280}));
}

// The one-epoch MNIST recipe trains the seed model itself: the same resolved layers and input
// as configs/mnist.json (113,162 parameters), for one epoch.
TEST(SeedConfigs, MnistOneEpochRecipeIsTheSeedModel) {
  Seed seed = load_seed("mnist.json");
  Seed recipe = load_seed("mnist_1epoch.json");
  EXPECT_EQ(recipe.config.resolved().at("layers"), seed.config.resolved().at("layers"));
  EXPECT_EQ(recipe.config.resolved().at("input"), seed.config.resolved().at("input"));
  EXPECT_EQ(recipe.config.resolved().at("init"), seed.config.resolved().at("init"));
  EXPECT_EQ(count_parameters(*recipe.model.net).total(), 113162);
  EXPECT_EQ(recipe.config.resolved().at("training").at("epochs"), 1);
}

// No selection on the test split: every shipped config holds out a validation split, or its
// description says that it has none and why.
TEST(SeedConfigs, ShippedConfigsUseAValidationSplitOrSayWhyNot) {
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(CNNKIT_SOURCE_DIR) + "/configs")) {
    if (entry.path().extension() != ".json") continue;
    const Config c = load_config(entry.path().string());
    const double split = c.resolved().at("data").value("validation_split", 0.0);
    const std::string description = c.resolved().value("description", "");
    EXPECT_TRUE(split > 0 || description.find("no validation split") != std::string::npos)
        << entry.path() << ": validation_split " << split << " and the description does not say why";
    ++checked;
  }
  EXPECT_GE(checked, 6);
}
