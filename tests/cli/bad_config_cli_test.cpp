// One test per kind of bad config, through the real binary: exit code 2, nothing on stdout,
// exactly ONE line on stderr that names the file and the JSON pointer, what was expected and
// what was found, and no C++ or LibTorch backtrace.
#include <gtest/gtest.h>

#include <algorithm>

#include "support/cli.h"

using cnnkit::test::CliResult;
using cnnkit::test::run_cli;
using cnnkit::test::TempDir;

namespace {

const char* kInput = R"("input": {"channels": 3, "height": 8, "width": 8})";

// A config whose layer list is `layers` (JSON text).
std::string config_with(const std::string& layers) {
  return std::string("{\n  \"name\": \"bad\",\n  ") + kInput + ",\n  \"layers\": " + layers + "\n}\n";
}

class BadConfig : public ::testing::Test {
 protected:
  // Writes `text` as bad.json and runs `cnnkit summary --config bad.json`.
  CliResult summary(const std::string& text, std::vector<std::string> extra = {}) {
    path_ = dir_.write("bad.json", text);
    std::vector<std::string> args{"summary", "--config", path_};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args);
  }
  // Exit 2, stdout empty, exactly one line on stderr, starting "cnnkit: error: <where>",
  // containing every part.
  void expect_error(const CliResult& r, const std::string& where, const std::vector<std::string>& parts) {
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.back(), '\n');
    EXPECT_EQ(r.err.rfind("cnnkit: error: " + where, 0), 0u) << "expected to start with " << where << "\n" << r.err;
    for (const auto& part : parts) EXPECT_NE(r.err.find(part), std::string::npos) << "missing '" << part << "' in\n" << r.err;
    for (const char* noise : {"Exception raised from", "frame #", "terminate called", "what():"})
      EXPECT_EQ(r.err.find(noise), std::string::npos) << r.err;
  }
  std::string at(const std::string& pointer) const { return path_ + ":" + pointer + ": "; }

  TempDir dir_{"cnnkit-badcfg"};
  std::string path_;
};

}  // namespace

TEST_F(BadConfig, MalformedJsonGivesLineAndColumn) {
  auto r = summary("{\n  \"name\": \"bad\",\n  \"layers\": [\n    {\"type\": \"flatten\"},,\n  ]\n}\n");
  expect_error(r, path_ + ":4:25: malformed JSON: ", {"syntax error", "unexpected ','"});
}

TEST_F(BadConfig, EmptyFile) {
  auto r = summary("");
  expect_error(r, path_ + ":1:1: malformed JSON: the file is empty", {});
}

TEST_F(BadConfig, MissingRequiredField) {
  auto r = summary(config_with(R"([{"type": "conv2d", "kernel_size": 3}])"));
  expect_error(r, at("/layers/0") + "missing required field 'filters'", {});
  auto no_input = summary(R"({"layers": [{"type": "flatten"}]})");
  expect_error(no_input, at("/") + "missing required field 'input'", {});
}

TEST_F(BadConfig, WrongType) {
  auto r = summary(config_with(R"([{"type": "conv2d", "filters": "32", "kernel_size": 3}])"));
  expect_error(r, at("/layers/0/filters") + "must be an integer; got \"32\"", {});
  auto layers = summary(config_with(R"({"type": "flatten"})"));
  expect_error(layers, at("/layers") + "must be an array; got an object {\"type\":\"flatten\"}", {});
  auto padding = summary(config_with(R"([{"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": true}])"));
  expect_error(padding, at("/layers/0/padding") + "must be \"same\", \"valid\", an integer >= 0 or [h, w]; got true", {});
}

TEST_F(BadConfig, ZeroOrNegativeFilters) {
  auto zero = summary(config_with(R"([{"type": "conv2d", "filters": 0, "kernel_size": 3}])"));
  expect_error(zero, at("/layers/0/filters") + "must be between 1 and 65536; got 0", {});
  auto negative = summary(config_with(R"([{"type": "flatten"}, {"type": "dense", "units": -10}])"));
  expect_error(negative, at("/layers/1/units") + "must be between 1 and 16777216; got -10", {});
  auto kernel = summary(config_with(R"([{"type": "conv2d", "filters": 4, "kernel_size": -3}])"));
  expect_error(kernel, at("/layers/0/kernel_size") + "must be a positive integer or [h, w]; got -3", {});
}

TEST_F(BadConfig, DropoutRateOutsideZeroToOne) {
  auto one = summary(config_with(R"([{"type": "flatten"}, {"type": "dropout", "rate": 1.0}])"));
  expect_error(one, at("/layers/1/rate") + "must be in [0.0, 1.0); got 1.0", {});
  auto negative = summary(config_with(R"([{"type": "spatial_dropout", "rate": -0.1}])"));
  expect_error(negative, at("/layers/0/rate") + "must be in [0.0, 1.0); got -0.1", {});
}

TEST_F(BadConfig, KernelLargerThanThePaddedInput) {
  auto r = summary(config_with(R"([{"type": "conv2d", "filters": 4, "kernel_size": 3},
                                   {"type": "conv2d", "filters": 4, "kernel_size": 7}])"));
  expect_error(r, at("/layers/1/kernel_size") + "conv2d 'conv2d_1' cannot take its input: ",
               {"kernel 7×7", "larger than the padded input 6×6", "(input 6×6×4)"});
}

TEST_F(BadConfig, UnknownLayerTypeListsKnownTypesAndSuggests) {
  auto r = summary(config_with(R"([{"type": "conv2", "filters": 4, "kernel_size": 3}])"));
  expect_error(r, at("/layers/0/type") + "unknown layer type 'conv2'",
               {"(did you mean 'conv2d'?)", "; known types: ", "avgpool2d", "batch_norm", "dense", "residual", "maxpool2d"});
}

TEST_F(BadConfig, UnknownKeyListsValidKeys) {
  auto r = summary(config_with(R"([{"type": "conv2d", "filters": 4, "kernel_size": 3, "stride": 2}])"));
  expect_error(r, at("/layers/0/stride") + "unknown key 'stride' (did you mean 'strides'?); valid keys: ",
               {"type, name, filters, kernel_size, strides, padding"});
  auto top = summary(std::string("{") + kInput + R"(, "layers": [{"type": "flatten"}], "optimiser": {}})");
  expect_error(top, at("/optimiser") + "unknown key 'optimiser'; valid keys: name, description, data, evaluation, init, input, layers, training", {});
}

TEST_F(BadConfig, LayerThatCannotTakeItsInputShowsBothShapes) {
  auto r = summary(config_with(R"([{"type": "flatten"}, {"type": "conv2d", "filters": 4, "kernel_size": 3}])"));
  expect_error(r, at("/layers/1") + "conv2d 'conv2d' cannot take its input: ",
               {"needs a spatial input H×W×C", "got 192 (flat)"});
  auto dense = summary(config_with(R"([{"type": "conv2d", "filters": 4, "kernel_size": 3}, {"type": "dense", "units": 2}])"));
  expect_error(dense, at("/layers/1") + "dense 'dense' cannot take its input: ",
               {"needs a flat input (features)", "got 6×6×4 (spatial H×W×C)", "add a flatten"});
}

TEST_F(BadConfig, EmptyLayerList) {
  auto r = summary(config_with("[]"));
  expect_error(r, at("/layers") + "the layer list is empty; a model needs at least one layer", {});
}

TEST_F(BadConfig, MissingFile) {
  std::string missing = dir_.str("missing.json");
  auto r = run_cli({"summary", "--config", missing});
  path_ = missing;
  expect_error(r, missing + ": config file not found", {});
}

TEST_F(BadConfig, DirectoryInsteadOfFile) {
  auto r = run_cli({"summary", "--config", dir_.str()});
  expect_error(r, dir_.str() + ": is a directory, expected a config file", {});
}

TEST_F(BadConfig, BadOverrideNamesTheOption) {
  auto r = summary(config_with(R"([{"type": "conv2d", "filters": 4, "kernel_size": 3}])"), {"--set", "layers.0.filters=-1"});
  expect_error(r, "--set layers.0.filters=-1: must be between 1 and 65536; got -1", {});
  auto section = summary(config_with(R"([{"type": "flatten"}])"), {"--set", "layer.0.type=dense"});
  expect_error(section, "--set layer.0.type=dense: unknown section 'layer' (did you mean 'layers'?); valid sections: ", {"input"});
}
