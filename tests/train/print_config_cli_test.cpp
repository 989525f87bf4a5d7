// --print-config shows the settings that apply to the chosen optimizer and schedule, and the
// policies as configured.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/cli.h"

using namespace cnnkit::test;
using nlohmann::json;

TEST(PrintConfig, ShowsOnlyWhatAppliesToTheChosenTypes) {
  auto r = run_cli({"train", "--config", config_path("cifar_bn.json"), "--print-config"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json t = json::parse(r.out)["training"];
  EXPECT_EQ(t["optimizer"],
            (json{{"type", "sgd"}, {"lr", 0.1}, {"momentum", 0.9}, {"nesterov", true}, {"weight_decay", 0.0005}}));
  EXPECT_EQ(t["schedule"],
            (json{{"type", "one_cycle"}, {"pct_start", 0.25}, {"div_factor", 25.0}, {"final_div_factor", 1e4}}));
  EXPECT_EQ(t["early_stopping"], (json{{"enabled", false}}));
  auto adam = run_cli({"train", "--config", config_path("mnist.json"), "--print-config", "--set",
                       "training.optimizer={\"type\": \"adam\"}", "--set", "training.early_stopping=true"});
  ASSERT_EQ(adam.exit_code, 0) << adam.err;
  json a = json::parse(adam.out)["training"];
  EXPECT_FALSE(a["optimizer"].contains("momentum"));
  EXPECT_EQ(a["optimizer"]["betas"], (json{0.9, 0.999}));
  EXPECT_EQ(a["early_stopping"]["patience"], 5);
}

TEST(PrintConfig, AKeyOfAnotherOptimizerIsAUsageErrorNamingTheOption) {
  auto r = run_cli(
      {"train", "--config", config_path("mnist.json"), "--print-config", "--set", "training.optimizer.nesterov=true"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--set training.optimizer.nesterov=true: 'nesterov' applies to sgd; this optimizer is adam"),
            std::string::npos)
      << r.err;
}
