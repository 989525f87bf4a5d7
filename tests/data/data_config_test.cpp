#include <gtest/gtest.h>

#include "cnnkit/config/config.h"
#include "cnnkit/core/error.h"
#include "cnnkit/data/data_config.h"
#include "cnnkit/data/normalization.h"

using namespace cnnkit;

namespace {
Config parse(const std::string& data, int channels = 1) {
  std::string text = "{\"input\": {\"channels\": " + std::to_string(channels) +
                     ", \"height\": 28, \"width\": 28}, \"layers\": [{\"type\": \"flatten\"}], \"data\": " + data + "}";
  auto source = std::make_shared<ConfigSource>();
  source->file = "x.json";
  return resolve_config(parse_json_text(text, "x.json"), source);
}
std::string error_of(const std::string& data, int channels = 1) {
  try {
    parse(data, channels);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST(DataConfig, DefaultsAreFilledIn) {
  Config c = parse(R"({"source": "mnist"})");
  const json& d = c.resolved()["data"];
  EXPECT_EQ(d["root"], "data/mnist");
  EXPECT_EQ(d["validation_split"], 0.0);
  EXPECT_EQ(d["split_seed"], 42);
  EXPECT_EQ(d["normalize"], "auto");
  EXPECT_EQ(d["augment"]["random_crop"], false);
  EXPECT_EQ(d["augment"]["horizontal_flip"], false);
  EXPECT_EQ(d["class_names"].size(), 10u);
  EXPECT_EQ(d["limit_train"], 0);
  EXPECT_FALSE(d.contains("train_dir"));  // folder-only keys appear only for folders
  DataConfig typed = data_config_from(c);
  EXPECT_EQ(typed.source, "mnist");
  EXPECT_FALSE(typed.augment.any());
}

TEST(DataConfig, FolderDefaultsAndAugmentShorthand) {
  Config c = parse(R"({"source": "folder", "root": "imgs", "augment": {"random_crop": true, "horizontal_flip": true,
                       "cutout": {"size": 6}, "random_erasing": true}})", 3);
  const json& d = c.resolved()["data"];
  EXPECT_EQ(d["train_dir"], "train");
  EXPECT_EQ(d["test_dir"], "test");
  EXPECT_EQ(d["on_bad_image"], "error");
  EXPECT_EQ(d["resize"], true);
  EXPECT_EQ(d["augment"]["random_crop"]["padding"], 4);
  EXPECT_EQ(d["augment"]["random_crop"]["fill"], "zero");
  EXPECT_EQ(d["augment"]["cutout"]["size"], 6);
  EXPECT_EQ(d["augment"]["random_erasing"]["probability"], 0.5);
  DataConfig typed = data_config_from(c);
  ASSERT_TRUE(typed.augment.random_crop);
  ASSERT_TRUE(typed.augment.random_erasing);
  EXPECT_DOUBLE_EQ(typed.augment.random_erasing->scale_max, 0.33);
}

TEST(DataConfig, ErrorsNameThePointer) {
  EXPECT_NE(error_of(R"({"root": "x"})").find("x.json:/data: missing required field 'source'"), std::string::npos);
  EXPECT_NE(error_of(R"({"source": "mnsit"})").find("did you mean 'mnist'"), std::string::npos);
  std::string e = error_of(R"({"source": "mnist", "valdation_split": 0.1})");
  EXPECT_NE(e.find("x.json:/data/valdation_split: unknown key"), std::string::npos) << e;
  EXPECT_NE(e.find("valid keys:"), std::string::npos) << e;
  e = error_of(R"({"source": "mnist", "train_dir": "a"})");
  EXPECT_NE(e.find("applies only to source \"folder\""), std::string::npos) << e;
  e = error_of(R"({"source": "mnist", "validation_split": 1.0})");
  EXPECT_NE(e.find("/data/validation_split: must be in [0.0, 1.0)"), std::string::npos) << e;
  e = error_of(R"({"source": "folder"})");
  EXPECT_NE(e.find("missing required field 'root'"), std::string::npos) << e;
}

TEST(DataConfig, NormalizeValuesAreChecked) {
  std::string e = error_of(R"({"source": "cifar10", "normalize": {"mean": [0.5, 0.5], "std": [0.2, 0.2]}})", 3);
  EXPECT_NE(e.find("/data/normalize/mean: must be an array of 3 numbers"), std::string::npos) << e;
  e = error_of(R"({"source": "cifar10", "normalize": {"mean": [125.3, 123.0, 113.9], "std": [0.2, 0.2, 0.2]}})", 3);
  EXPECT_NE(e.find("/data/normalize/mean/0: statistics are on [0, 1]"), std::string::npos) << e;
  e = error_of(R"({"source": "mnist", "normalize": {"mean": [0.1], "std": [0]}})");
  EXPECT_NE(e.find("/data/normalize/std/0: must be in (0.0, 1.0]"), std::string::npos) << e;
  e = error_of(R"({"source": "mnist", "normalize": "zscore"})");
  EXPECT_NE(e.find("must be one of auto, none"), std::string::npos) << e;
  e = error_of(R"({"source": "mnist", "augment": {"random_crop": {"padding": 28, "fill": "reflect"}}})");
  EXPECT_NE(e.find("reflect padding must be smaller than the input"), std::string::npos) << e;
}

TEST(DataConfig, NormalizationFromConfig) {
  EXPECT_FALSE(normalization_from_config(parse(R"({"source": "mnist"})")).has_value());
  auto none = normalization_from_config(parse(R"({"source": "cifar10", "normalize": "none"})", 3));
  ASSERT_TRUE(none);
  EXPECT_EQ(none->mean, (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(none->std, (std::vector<double>{1, 1, 1}));
  auto fixed = normalization_from_config(parse(R"({"source": "mnist", "normalize": {"mean": [0.13], "std": [0.31]}})"));
  ASSERT_TRUE(fixed);
  EXPECT_EQ(fixed->mean, std::vector<double>{0.13});
  auto round = normalization_from_json(normalization_to_json(*fixed));
  EXPECT_EQ(round.std, std::vector<double>{0.31});
  EXPECT_THROW(normalization_from_json(json{{"mean", {0.1}}, {"std", {0.0}}}), DataError);
}

TEST(DataConfig, NoDataSectionIsAConfigError) {
  auto source = std::make_shared<ConfigSource>();
  source->file = "m.json";
  Config c = resolve_config(parse_json_text(R"({"input": {"channels": 1, "height": 4, "width": 4},
                                               "layers": [{"type": "flatten"}]})", "m.json"), source);
  EXPECT_FALSE(c.has_section("data"));
  EXPECT_THROW(data_config_from(c), ConfigError);
}
