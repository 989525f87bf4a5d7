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
