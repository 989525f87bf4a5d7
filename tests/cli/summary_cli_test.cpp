// `cnnkit summary`, `--help` and `--version` through the real binary: exit codes, stdout
// for results and stderr for people.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/cli.h"

using cnnkit::test::config_path;
using cnnkit::test::run_cli;
using nlohmann::json;

namespace {
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST(SummaryCli, TableOnStdout) {
  auto r = run_cli({"summary", "--config", config_path("mnist.json")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out.rfind("Model: \"mnist\"    input: 28×28×1 (H×W×C)\n", 0), 0u) << r.out;
  EXPECT_TRUE(contains(r.out, "conv2d (conv2d)")) << r.out;
  EXPECT_TRUE(contains(r.out, "\nTotal params: 113,162 (442.04 KiB)\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "\nTrainable params: 113,162\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "\nNon-trainable params: 0\n")) << r.out;

  auto c = run_cli({"summary", "-c", config_path("cifar.json")});
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(contains(c.out, "\nTotal params: 271,914 (")) << c.out;
  EXPECT_TRUE(contains(c.out, "(58.66M FLOPs forward")) << c.out;
}

TEST(SummaryCli, JsonIsOneDocumentOnStdout) {
  auto r = run_cli({"summary", "--config", config_path("cifar.json"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  json s = json::parse(r.out);  // throws (fails the test) on anything but one JSON document
  EXPECT_EQ(s["model"], "cifar");
  EXPECT_EQ(s["total_params"], 271914);
  EXPECT_EQ(s["trainable_params"], 271914);
  EXPECT_EQ(s["non_trainable_params"], 0);
  EXPECT_EQ(s["flops_per_image"], 58657280);
  EXPECT_EQ(s["macs_per_image"], 29328640);
  EXPECT_EQ(s["layers"].size(), 16u);
  EXPECT_EQ(s["layers"][13]["name"], "dense");
  EXPECT_EQ(s["layers"][13]["params"], 131200);
  for (const char* key : {"input_shape", "param_bytes", "activation_bytes_per_image"}) EXPECT_TRUE(s.contains(key)) << key;
}

TEST(SummaryCli, SetOverridesAndGlobalOptionsAfterTheCommand) {
  auto r = run_cli({"summary", "--config", config_path("mnist.json"), "--json", "--set", "layers.0.filters=16", "--set",
                    "name=small", "--threads", "1", "--log-level", "warn"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json s = json::parse(r.out);
  EXPECT_EQ(s["model"], "small");
  EXPECT_EQ(s["layers"][0]["params"], 16 * 9 + 16);
  EXPECT_EQ(s["layers"][3]["params"], 16 * 9 * 64 + 64);
  EXPECT_EQ(s["total_params"], 113162 - 320 - 18496 + 160 + 9280);
}

TEST(SummaryCli, UsageErrors) {
  auto missing = run_cli({"summary"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.out, "");
  EXPECT_TRUE(contains(missing.err, "summary needs a config (NAME or FILE), a checkpoint or a run directory"))
      << missing.err;

  auto none = run_cli({});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_EQ(none.out, "");
  EXPECT_TRUE(contains(none.err, "a command is required: summary, ")) << none.err;

  auto unknown = run_cli({"sumary", "--config", config_path("mnist.json")});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_EQ(unknown.out, "");

  auto bad_option = run_cli({"summary", "--config", config_path("mnist.json"), "--jsno"});
  EXPECT_EQ(bad_option.exit_code, 2);
  EXPECT_EQ(bad_option.out, "");
  EXPECT_TRUE(contains(bad_option.err, "--jsno")) << bad_option.err;
}

TEST(Cli, HelpShowsCommandsOptionsAndDefaults) {
  auto r = run_cli({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  for (const char* part : {"summary", "info", "--device", "--threads", "--log-level", "--quiet", "--version"})
    EXPECT_TRUE(contains(r.out, part)) << part << "\n" << r.out;
  // Defaults are shown in the help text.
  EXPECT_TRUE(contains(r.out, "--device TEXT=auto")) << r.out;
  EXPECT_TRUE(contains(r.out, "--log-level TEXT=info")) << r.out;
  EXPECT_TRUE(contains(r.out, "--threads INT=0")) << r.out;

  auto s = run_cli({"summary", "--help"});
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_EQ(s.err, "");
  for (const char* part : {"--config", "REQUIRED", "--set", "layers.0.filters=16", "--json"})
    EXPECT_TRUE(contains(s.out, part)) << part << "\n" << s.out;

  auto i = run_cli({"info", "--help"});
  EXPECT_EQ(i.exit_code, 0);
  EXPECT_TRUE(contains(i.out, "--json")) << i.out;
}

TEST(Cli, Version) {
  auto r = run_cli({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out.rfind(std::string("cnnkit ") + CNNKIT_VERSION + " (LibTorch 1.", 0), 0u) << r.out;
  EXPECT_EQ(r.out.back(), '\n');
}
