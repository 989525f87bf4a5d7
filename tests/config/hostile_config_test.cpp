// Configs a careless user or an attacker may write: nesting deep enough to exhaust a recursive
// walk, numbers beyond a double, integers beyond int64, text that is not UTF-8, absurd --set
// paths. Each is a ConfigError naming the file and place (or the option), never a crash or a
// raw library exception.
#include <gtest/gtest.h>

#include "cnnkit/config/config.h"
#include "cnnkit/core/error.h"
#include "cnnkit/core/json_text.h"
#include "support/cli.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using cnnkit::test::config_error_of;
using cnnkit::test::model_doc;
using cnnkit::test::TempDir;

namespace {
const std::string kModel = R"("input": {"channels": 1, "height": 4, "width": 4}, "layers": [{"type": "dense", "units": 2}])";
}

TEST(HostileConfig, DeepNestingIsRefusedWithLineAndColumn) {
  const std::string deep = "{\"description\": " + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_EQ(config_error_of([&] { parse_json_text(deep, "deep.json"); }),
            "deep.json:1:80: JSON nested deeper than 64 levels");
  // Brackets inside strings and comments do not count; 64 levels are fine.
  EXPECT_NO_THROW(parse_json_text("// [[[[\n{\"a\": \"[[[[[[\", \"b\": " + std::string(63, '[') + std::string(63, ']') + "}",
                                  "ok.json"));
  // Residual blocks nested inside each other cost two levels each: 40 of them are refused.
  std::string layers = "{\"type\": \"dense\", \"units\": 2}";
  for (int i = 0; i < 40; ++i) layers = "{\"type\": \"residual\", \"layers\": [" + layers + "]}";
  const std::string doc = "{\"input\": {\"channels\": 1, \"height\": 4, \"width\": 4}, \"layers\": [" + layers + "]}";
  EXPECT_NE(config_error_of([&] { parse_json_text(doc, "res.json"); }).find("res.json:1:"), std::string::npos);
}

TEST(HostileConfig, NumbersBeyondADoubleNameThePointer) {
  EXPECT_EQ(config_error_of([] { parse_json_text(R"({"training": {"optimizer": {"lr": 1e999}}})", "big.json"); }),
            "big.json:/training/optimizer/lr: number out of range (beyond the ±1.8e308 of a double)");
  EXPECT_EQ(config_error_of([] { parse_json_text(R"({"a": [1, -1e400]})", "neg.json"); }),
            "neg.json:/a/1: number out of range (beyond the ±1.8e308 of a double)");
  json doc = json::parse("{" + kModel + "}");
  auto source = std::make_shared<ConfigSource>();
  EXPECT_EQ(config_error_of([&] { apply_override(doc, "training.optimizer.lr=1e999", *source); }),
            "--set training.optimizer.lr=1e999: number out of range (beyond the ±1.8e308 of a double)");
  EXPECT_EQ(config_error_of([&] { apply_override(doc, "layers.0={\"units\": [1e999]}", *source); }),
            "--set layers.0={\"units\": [1e999]}: number out of range (beyond the ±1.8e308 of a double) at /units/0");
}

TEST(HostileConfig, IntegersBeyondInt64AreNotWrapped) {
  json doc = model_doc({{{"type", "dense"}, {"units", json::parse("18446744073709551615")}}}, 1, 4, 4);
  std::string msg = config_error_of([&] { cnnkit::test::resolve_doc(doc); });
  EXPECT_EQ(msg, "test.json:/layers/0/units: must be at most 16777216; got 18446744073709551615");
}

TEST(HostileConfig, OverridePathsAndValuesAreBounded) {
  json doc = json::parse("{" + kModel + "}");
  auto source = std::make_shared<ConfigSource>();
  std::string path = "training";
  for (int i = 0; i < 40; ++i) path += ".a";
  EXPECT_EQ(config_error_of([&] { apply_override(doc, path + "=1", *source); }),
            "--set " + path + "=1: path has 41 names; at most 32 are accepted");
  const std::string deep = std::string(1000, '[') + std::string(1000, ']');
  EXPECT_EQ(config_error_of([&] { apply_override(doc, "description=" + deep, *source); }),
            "--set description=" + deep + ": value nested deeper than 64 levels");
}

TEST(HostileConfig, TextThatIsNotUtf8) {
  TempDir dir("utf8");
  // In a config file: JSON must be UTF-8, so the parser refuses it with line and column.
  const std::string bad = dir.write("latin1.json", "{\"description\": \"caf\xe9\", " + kModel + "}");
  std::string msg = config_error_of([&] { load_config(bad); });
  EXPECT_EQ(msg.rfind(bad + ":1:", 0), 0u) << msg;
  EXPECT_NE(msg.find("malformed JSON"), std::string::npos) << msg;
  // In --set values: taken as is (a path need not be UTF-8); output replaces the odd bytes.
  const std::string good = dir.write("good.json", "{" + kModel + "}");
  Config c = load_config(good, {"description=caf\xe9"});
  EXPECT_EQ(c.resolved()["description"], "caf\xe9");
  EXPECT_EQ(json::parse(json_text(c.resolved()))["description"], "caf\xef\xbf\xbd");
  // In --set names: an unknown key, reported with a message that is itself printable.
  msg = config_error_of([&] { load_config(good, {"layers.0.unit\xff=3"}); });
  EXPECT_NE(msg.find("unknown key 'unit\xff'"), std::string::npos) << msg;
  msg = config_error_of([&] { load_config(good, {"layers.0.units=caf\xe9"}); });
  EXPECT_EQ(msg, "--set layers.0.units=caf\xe9: must be an integer; got \"caf\xef\xbf\xbd\"");
  // In the config file's own name: the default model name keeps the bytes; output is valid JSON.
  const std::string odd = dir.write("mod\xe8le.json", "{" + kModel + "}");
  Config named = load_config(odd);
  EXPECT_EQ(named.name(), "mod\xe8le");
  EXPECT_NO_THROW(json::parse(json_text(named.resolved())));
}

TEST(HostileConfig, ConfigFilesThatAreNotRegularFiles) {
  TempDir dir("notreg");
  EXPECT_EQ(config_error_of([] { load_config("/dev/zero"); }), "/dev/zero: is a character device, expected a config file");
  std::filesystem::create_symlink(dir.path() / "x", dir.path() / "loop");
  std::filesystem::create_symlink(dir.path() / "loop", dir.path() / "x");
  EXPECT_NE(config_error_of([&] { load_config(dir.str("loop")); }).find("symbolic link loop"), std::string::npos);
}

// Found by fuzz_config: a --set name holding a newline was quoted raw, so the error message ran
// over several lines. Names from options and from files are quoted with escapes.
TEST(HostileConfig, NewlinesInNamesKeepTheMessageOnOneLine) {
  json doc = json::parse("{" + kModel + "}");
  auto source = std::make_shared<ConfigSource>();
  EXPECT_EQ(config_error_of([&] { apply_override(doc, "lan\nse.units=2", *source); }).find('\n'), std::string::npos);
  EXPECT_EQ(config_error_of([&] { apply_override(doc, "lan\nse.units=2", *source); })
                .rfind("--set lan\\nse.units=2: unknown section 'lan\\nse'", 0),
            0u);
  json bad = json::parse("{" + kModel + ", \"training\": {\"optimizer\": {\"l\\nr\\u0001\": 0.1}}}");
  auto file = std::make_shared<ConfigSource>();
  file->file = "x.json";
  const std::string e = config_error_of([&] { resolve_config(bad, file); });
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  EXPECT_NE(e.find("l\\nr\\x01"), std::string::npos) << e;
}
