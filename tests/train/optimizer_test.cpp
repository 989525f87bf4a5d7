// Optimizer registry: defaults per type, only applicable keys, errors, and the built optimizer.
#include <gtest/gtest.h>
#include <torch/optim.h>

#include "cnnkit/train/optimizer.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using namespace cnnkit::test;

namespace {
json optimizer(const json& o, bool stored = false) {
  auto src = test_source();
  src->stored = stored;
  ConfigView v(o, src, "/training/optimizer");
  return resolve_optimizer(v);
}
std::string optimizer_error(const json& o) {
  return config_error_of([&] { optimizer(o); });
}
}  // namespace

TEST(Optimizer, DefaultsPerType) {
  EXPECT_EQ(resolve_optimizer(std::nullopt),
            (json{{"type", "adam"}, {"lr", 0.001}, {"weight_decay", 0.0}, {"betas", {0.9, 0.999}}, {"eps", 1e-8}}));
  EXPECT_EQ(optimizer({{"type", "sgd"}}),
            (json{{"type", "sgd"}, {"lr", 0.01}, {"weight_decay", 0.0}, {"momentum", 0.9}, {"nesterov", false}}));
  EXPECT_EQ(optimizer({{"type", "adamw"}})["weight_decay"], 0.01);
  json r = optimizer({{"type", "rmsprop"}});
  EXPECT_EQ(r["momentum"], 0.0);
  EXPECT_EQ(r["alpha"], 0.99);
  EXPECT_FALSE(r.contains("betas"));
}

TEST(Optimizer, KeysOfAnotherTypeAreErrorsNamingTheTypes) {
  std::string e = optimizer_error({{"type", "adam"}, {"nesterov", true}});
  EXPECT_NE(e.find("test.json:/training/optimizer/nesterov: 'nesterov' applies to sgd; this optimizer is adam"),
            std::string::npos)
      << e;
  e = optimizer_error({{"type", "sgd"}, {"betas", {0.9, 0.99}}});
  EXPECT_NE(e.find("'betas' applies to adam, adamw"), std::string::npos) << e;
  e = optimizer_error({{"type", "sgd"}, {"momentun", 0.9}});
  EXPECT_NE(e.find("unknown key 'momentun'"), std::string::npos) << e;
  e = optimizer_error({{"type", "adagrad"}});
  EXPECT_NE(e.find("/training/optimizer/type: must be one of adam, adamw, rmsprop, sgd"), std::string::npos) << e;
  e = optimizer_error({{"type", "sgd"}, {"nesterov", true}, {"momentum", 0}});
  EXPECT_NE(e.find("nesterov needs momentum > 0"), std::string::npos) << e;
  e = optimizer_error({{"type", "sgd"}, {"lr", -1}});
  EXPECT_NE(e.find("/training/optimizer/lr: must be in (0.0, 10.0]"), std::string::npos) << e;
}

TEST(Optimizer, ConfigsStoredByOlderCheckpointsDropOtherTypesKeys) {
  // Format-1 checkpoints stored every type's keys; reading one must not fail.
  json r = optimizer({{"type", "sgd"},
                      {"lr", 0.1},
                      {"betas", {0.9, 0.999}},
                      {"eps", 1e-8},
                      {"alpha", 0.99},
                      {"momentum", 0.9},
                      {"nesterov", true},
                      {"weight_decay", 0.0}},
                     /*stored=*/true);
  EXPECT_FALSE(r.contains("betas"));
  EXPECT_EQ(r["nesterov"], true);
}

TEST(Optimizer, BuildsTheConfiguredOptimizer) {
  auto w = torch::zeros({3}, torch::requires_grad());
  auto sgd = make_optimizer({w}, optimizer({{"type", "sgd"}, {"lr", 0.5}, {"nesterov", true}}));
  auto* as_sgd = dynamic_cast<torch::optim::SGD*>(sgd.get());
  ASSERT_NE(as_sgd, nullptr);
  auto& o = static_cast<torch::optim::SGDOptions&>(as_sgd->param_groups()[0].options());
  EXPECT_DOUBLE_EQ(o.lr(), 0.5);
  EXPECT_TRUE(o.nesterov());
  EXPECT_NE(dynamic_cast<torch::optim::AdamW*>(make_optimizer({w}, optimizer({{"type", "adamw"}})).get()), nullptr);
  set_learning_rate(*sgd, 0.25);
  EXPECT_DOUBLE_EQ(sgd->param_groups()[0].options().get_lr(), 0.25);
  EXPECT_THROW(make_optimizer({w}, json{{"type", "nope"}}), Error);
}

TEST(Optimizer, GroupsSplitNormAndBiasParametersWithTheirOwnRateAndDecay) {
  // conv (weight, bias) -> batch norm (γ frozen by scale: false, β) -> dense without bias.
  Model model = build_model(resolve_doc(model_doc({{{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3},
                                                    {"bias", true},
                                                    {"batch_norm", {{"scale", false}}}},
                                                   {{"type", "flatten"}},
                                                   {{"type", "dense"}, {"units", 2}, {"bias", false}}},
                                                  1, 4, 4)));
  json r = optimizer({{"type", "sgd"},
                      {"lr", 0.1},
                      {"weight_decay", 5e-4},
                      {"groups", {{"norm", {{"lr_scale", 64}, {"weight_decay", 0}}}, {"bias", json::object()}}}});
  EXPECT_EQ(r["groups"]["bias"], (json{{"lr_scale", 1.0}, {"weight_decay", 5e-4}}));
  auto groups = parameter_groups(*model.net, r);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0].name, "default");
  EXPECT_EQ(groups[0].params.size(), 2u);  // conv weight, dense weight
  EXPECT_EQ(groups[1].name, "norm");
  EXPECT_EQ(groups[1].params.size(), 1u);  // β only: γ is frozen
  EXPECT_EQ(groups[2].name, "bias");
  std::vector<double> scales;
  auto opt = make_optimizer(*model.net, r, &scales);
  EXPECT_EQ(scales, (std::vector<double>{1.0, 64.0, 1.0}));
  ASSERT_EQ(opt->param_groups().size(), 3u);
  auto& norm = static_cast<torch::optim::SGDOptions&>(opt->param_groups()[1].options());
  EXPECT_DOUBLE_EQ(norm.lr(), 6.4);
  EXPECT_DOUBLE_EQ(norm.weight_decay(), 0.0);
  set_learning_rate(*opt, 0.5, scales);
  EXPECT_DOUBLE_EQ(opt->param_groups()[0].options().get_lr(), 0.5);
  EXPECT_DOUBLE_EQ(opt->param_groups()[1].options().get_lr(), 32.0);

  // Without "groups": one group of every trainable parameter, as before.
  auto plain = make_optimizer(*model.net, optimizer({{"type", "sgd"}}));
  ASSERT_EQ(plain->param_groups().size(), 1u);
  EXPECT_EQ(plain->param_groups()[0].params().size(), 4u);

  std::string e = optimizer_error({{"type", "sgd"}, {"groups", {{"norms", json::object()}}}});
  EXPECT_NE(e.find("/training/optimizer/groups: unknown key 'norms' (did you mean 'norm'?)"), std::string::npos) << e;
  e = optimizer_error({{"type", "sgd"}, {"groups", {{"norm", {{"lr_scale", 0}}}}}});
  EXPECT_NE(e.find("/training/optimizer/groups/norm/lr_scale: must be in (0.0"), std::string::npos) << e;
}

TEST(Optimizer, LrBatchSizeAppliesTheLinearScalingRule) {
  json r = optimizer({{"type", "sgd"}, {"lr", 0.1}, {"lr_batch_size", 128}});
  EXPECT_EQ(r["lr_batch_size"], 128);
  EXPECT_FALSE(optimizer({{"type", "sgd"}}).contains("lr_batch_size"));
  EXPECT_NE(optimizer_error({{"type", "sgd"}, {"lr_batch_size", 0}}).find("/training/optimizer/lr_batch_size"),
            std::string::npos);
}
