// Loading and resolving configs: malformed JSON (line and column), missing file / directory,
// top-level keys, defaults filled in, --set overrides and their attribution, layer names.
#include <gtest/gtest.h>

#include "cnnkit/config/config.h"
#include "cnnkit/core/error.h"
#include "support/cli.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using cnnkit::test::config_error_of;
using cnnkit::test::model_doc;
using cnnkit::test::resolve_doc;

namespace {

json conv(json extra = json::object()) {
  json c = {{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3}};
  for (auto it = extra.begin(); it != extra.end(); ++it) c[it.key()] = it.value();
  return c;
}

std::vector<std::string> names_of(const Config& c) {
  std::vector<std::string> out;
  std::function<void(const json&)> walk = [&](const json& list) {
    for (const auto& l : list) {
      out.push_back(l["name"].get<std::string>());
      if (l.contains("layers")) walk(l["layers"]);
    }
  };
  walk(c.resolved()["layers"]);
  return out;
}

std::string resolve_error(const json& doc) {
  return config_error_of([&] { resolve_doc(doc); });
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Reading files.

TEST(ParseJson, MalformedJsonGivesLineAndColumn) {
  EXPECT_EQ(config_error_of([] { parse_json_text("{\n  \"a\": 1,\n  \"b\": ]\n}\n", "bad.json"); }),
            "bad.json:3:8: malformed JSON: syntax error while parsing value - unexpected ']'; expected '[', '{', or a "
            "literal");
  std::string msg = config_error_of([] { parse_json_text("{\"a\": 1,}", "trailing.json"); });
  EXPECT_EQ(msg.rfind("trailing.json:1:9: malformed JSON: ", 0), 0u) << msg;
  EXPECT_EQ(config_error_of([] { parse_json_text(" \n", "empty.json"); }), "empty.json:2:1: malformed JSON: the file is empty");
  // Comments are allowed.
  EXPECT_EQ(parse_json_text("// seed\n{\"a\": /* one */ 1}", "c.json")["a"], 1);
}

TEST(LoadConfig, MissingFileAndDirectory) {
  cnnkit::test::TempDir dir;
  EXPECT_EQ(config_error_of([&] { load_config(dir.str("nope.json")); }), dir.str("nope.json") + ": config file not found");
  EXPECT_EQ(config_error_of([&] { load_config(dir.str()); }), dir.str() + ": is a directory, expected a config file");
  std::string bad = dir.write("bad.json", "{\"input\": {\"channels\": 1,\n \"height\" 28}}");
  EXPECT_EQ(config_error_of([&] { load_config(bad); }).rfind(bad + ":2:12: malformed JSON: syntax error while parsing object separator", 0), 0u);
}

TEST(LoadConfig, SeedConfigsResolveWithDefaults) {
  Config c = load_config(cnnkit::test::config_path("mnist.json"));
  EXPECT_EQ(c.name(), "mnist");
  EXPECT_EQ(c.resolved()["input"], json({{"channels", 1}, {"height", 28}, {"width", 28}}));
  EXPECT_EQ(c.resolved()["init"], "xavier");
  EXPECT_EQ(c.resolved()["layers"][0],
            json({{"type", "conv2d"}, {"name", "conv2d"}, {"filters", 32}, {"kernel_size", 3}, {"strides", 1},
                  {"padding", "same"}, {"dilation", 1}, {"groups", 1}, {"batch_norm", false}, {"bias", true},
                  {"activation", "relu"}, {"init", "inherit"}, {"trainable", true}}));
  EXPECT_EQ(c.resolved()["layers"][1],
            json({{"type", "maxpool2d"}, {"name", "maxpool2d"}, {"pool_size", 2}, {"strides", 2}, {"padding", "valid"}}));
  EXPECT_EQ(c.resolved()["layers"][10],
            json({{"type", "dense"}, {"name", "dense"}, {"units", 10}, {"activation", "linear"}, {"batch_norm", false},
                  {"bias", true}, {"init", "inherit"}, {"trainable", true}}));
  EXPECT_TRUE(c.has_section("layers"));
  EXPECT_TRUE(c.has_section("training"));
  EXPECT_TRUE(c.has_section("data"));
  // Resolving the resolved config again changes nothing (a checkpoint stores the resolved form).
  EXPECT_EQ(resolve_doc(c.resolved()).resolved(), c.resolved());
}

// ---------------------------------------------------------------------------------------------
// Top level.

TEST(ResolveConfig, TopLevelKeys) {
  json doc = model_doc({conv()});
  EXPECT_EQ(resolve_doc(doc, "dir/my_net.json").name(), "my_net");  // the file's stem by default
  doc["name"] = "net";
  doc["description"] = "a test";
  Config c = resolve_doc(doc);
  EXPECT_EQ(c.name(), "net");
  EXPECT_EQ(c.resolved()["description"], "a test");
  EXPECT_EQ(c.resolved()["init"], "default");

  json typo = model_doc({conv()});
  typo["lyers"] = json::array();
  EXPECT_EQ(resolve_error(typo), "test.json:/lyers: unknown key 'lyers' (did you mean 'layers'?); valid keys: name, "
                                 "description, data, evaluation, init, input, layers, training");
  EXPECT_EQ(resolve_error(json::array({1})), "test.json:/: must be an object; got an array [1]");
  EXPECT_EQ(resolve_error({{"layers", {conv()}}}), "test.json:/: missing required field 'input'");
  EXPECT_EQ(resolve_error({{"input", {{"channels", 1}, {"height", 28}, {"width", 28}}}}),
            "test.json:/: missing required field 'layers'");
  json input = model_doc({conv()});
  input["input"]["depth"] = 3;
  EXPECT_EQ(resolve_error(input), "test.json:/input/depth: unknown key 'depth'; valid keys: channels, height, width");
  input = model_doc({conv()}, 0);
  EXPECT_EQ(resolve_error(input), "test.json:/input/channels: must be between 1 and 4096; got 0");
  json named = model_doc({conv()});
  named["name"] = 5;
  EXPECT_EQ(resolve_error(named), "test.json:/name: must be a string; got 5");
}

TEST(ResolveConfig, LayerListErrors) {
  EXPECT_EQ(resolve_error(model_doc(json::array())),
            "test.json:/layers: the layer list is empty; a model needs at least one layer");
  EXPECT_EQ(resolve_error(model_doc(json::object())), "test.json:/layers: must be an array; got an object {}");
  EXPECT_EQ(resolve_error(model_doc({conv(), 3})), "test.json:/layers/1: must be an object; got an integer 3");
  EXPECT_EQ(resolve_error(model_doc({conv(), {{"filters", 3}}})), "test.json:/layers/1: missing required field 'type'");
  EXPECT_EQ(resolve_error(model_doc({{{"type", 3}}})), "test.json:/layers/0/type: must be a string; got 3");
  EXPECT_EQ(resolve_error(model_doc({{{"type", "conv2d"}, {"filters", 4}}})),
            "test.json:/layers/0: missing required field 'kernel_size'");
  EXPECT_EQ(resolve_error(model_doc({conv({{"filters", "4"}})})), "test.json:/layers/0/filters: must be an integer; got \"4\"");
  EXPECT_EQ(resolve_error(model_doc({conv({{"filters", -4}})})),
            "test.json:/layers/0/filters: must be between 1 and 65536; got -4");
  EXPECT_EQ(resolve_error(model_doc({conv({{"kernel_size", -3}})})),
            "test.json:/layers/0/kernel_size: must be a positive integer or [h, w]; got -3");
  EXPECT_EQ(resolve_error(model_doc({conv({{"kernel_size", {3, 3, 3}}})})),
            "test.json:/layers/0/kernel_size: must be a positive integer or [h, w]; got [3,3,3]");
  EXPECT_EQ(resolve_error(model_doc({conv({{"padding", "full"}})})),
            "test.json:/layers/0/padding: must be one of same, valid; got \"full\"");
  EXPECT_EQ(resolve_error(model_doc({conv({{"padding", -1}})})),
            "test.json:/layers/0/padding: must be an integer >= 0 or [h, w]; got -1");
  EXPECT_EQ(resolve_error(model_doc({conv({{"padding", true}})})),
            "test.json:/layers/0/padding: must be \"same\", \"valid\", an integer >= 0 or [h, w]; got true");
  EXPECT_EQ(resolve_error(model_doc({conv({{"filter", 4}})})),
            "test.json:/layers/0/filter: unknown key 'filter' (did you mean 'filters'?); valid keys: type, name, filters, "
            "kernel_size, strides, padding, dilation, groups, bias, activation, alpha, batch_norm, maxpool, init, "
            "whitening_eps, trainable");
  EXPECT_EQ(resolve_error(model_doc({{{"type", "dense"}, {"units", 0}}})),
            "test.json:/layers/0/units: must be between 1 and 16777216; got 0");
}

// ---------------------------------------------------------------------------------------------
// Names.

TEST(LayerNames, GeneratedKerasStyle) {
  Config c = resolve_doc(model_doc({conv(), conv(), {{"type", "maxpool2d"}}, conv(), {{"type", "flatten"}},
                                    {{"type", "dense"}, {"units", 3}}, {{"type", "dense"}, {"units", 2}}}));
  EXPECT_EQ(names_of(c), (std::vector<std::string>{"conv2d", "conv2d_1", "maxpool2d", "conv2d_2", "flatten", "dense", "dense_1"}));
}

TEST(LayerNames, GeneratedNamesSkipExplicitOnes) {
  // An explicit name anywhere (later, or nested) is never generated for another layer.
  Config c = resolve_doc(model_doc({conv(), conv({{"name", "conv2d"}}), conv(), conv({{"name", "conv2d_3"}}), conv()}));
  EXPECT_EQ(names_of(c), (std::vector<std::string>{"conv2d_1", "conv2d", "conv2d_2", "conv2d_3", "conv2d_4"}));
  Config nested = resolve_doc(model_doc(
      {conv(), {{"type", "residual"}, {"layers", {conv({{"padding", "same"}, {"name", "conv2d_1"}}), conv({{"padding", "same"}})}}}, conv()}));
  EXPECT_EQ(names_of(nested), (std::vector<std::string>{"conv2d", "residual", "conv2d_1", "conv2d_2", "conv2d_3"}));
}

TEST(LayerNames, DuplicateAndInvalidNames) {
  EXPECT_EQ(resolve_error(model_doc({conv({{"name", "a"}}), conv({{"name", "a"}})})),
            "test.json:/layers/1/name: duplicate layer name 'a'");
  EXPECT_EQ(resolve_error(model_doc({conv({{"name", "block"}}),
                                     {{"type", "residual"}, {"layers", {conv({{"name", "block"}, {"padding", "same"}})}}}})),
            "test.json:/layers/1/layers/0/name: duplicate layer name 'block'");
  EXPECT_EQ(resolve_error(model_doc({conv({{"name", "1st"}})})),
            "test.json:/layers/0/name: layer names start with a letter and use letters, digits, '_' and '-' (at most "
            "64); got \"1st\"");
  EXPECT_EQ(resolve_error(model_doc({conv({{"name", "a b"}})})).rfind("test.json:/layers/0/name: layer names start", 0), 0u);
  EXPECT_EQ(resolve_error(model_doc({conv({{"name", 7}})})), "test.json:/layers/0/name: must be a string; got 7");
  EXPECT_NO_THROW(resolve_doc(model_doc({conv({{"name", "Stem-conv_1"}})})));
}

// ---------------------------------------------------------------------------------------------
// --set overrides.

TEST(Override, NestedPathArrayIndexAndValueKinds) {
  json doc = model_doc({conv(), {{"type", "dropout"}, {"rate", 0.5}}});
  ConfigSource src;
  apply_override(doc, "input.channels=1", src);
  EXPECT_EQ(doc["input"]["channels"], 1);
  apply_override(doc, "layers.0.filters=16", src);
  EXPECT_EQ(doc["layers"][0]["filters"], 16);
  apply_override(doc, "layers.0.padding=same", src);  // a bare word is a string
  EXPECT_EQ(doc["layers"][0]["padding"], "same");
  apply_override(doc, "layers.0.activation=\"relu\"", src);  // so is a JSON string
  EXPECT_EQ(doc["layers"][0]["activation"], "relu");
  apply_override(doc, "layers.0.kernel_size=[3,5]", src);
  EXPECT_EQ(doc["layers"][0]["kernel_size"], json::array({3, 5}));
  apply_override(doc, "layers.0.batch_norm=true", src);
  EXPECT_EQ(doc["layers"][0]["batch_norm"], true);
  apply_override(doc, "layers.1.rate=0.25", src);
  EXPECT_EQ(doc["layers"][1]["rate"], 0.25);
  apply_override(doc, "layers.1={\"type\":\"flatten\"}", src);
  EXPECT_EQ(doc["layers"][1], json({{"type", "flatten"}}));
  apply_override(doc, "name=renamed", src);
  EXPECT_EQ(doc["name"], "renamed");
  apply_override(doc, "description=", src);  // empty value: the empty string
  EXPECT_EQ(doc["description"], "");
  EXPECT_EQ(src.overrides.at("/layers/0/filters"), "--set layers.0.filters=16");
  EXPECT_EQ(src.overrides.at("/input/channels"), "--set input.channels=1");
  // layers.1={...} replaced what layers.1.rate had set.
  EXPECT_EQ(src.overrides.count("/layers/1/rate"), 0u);
  EXPECT_EQ(src.overrides.at("/layers/1"), "--set layers.1={\"type\":\"flatten\"}");
  EXPECT_EQ(src.overrides.size(), 9u);
  Config c = resolve_config(doc, std::make_shared<ConfigSource>(src));
  EXPECT_EQ(c.name(), "renamed");
  EXPECT_EQ(c.resolved()["layers"][0]["filters"], 16);
}

TEST(Override, Errors) {
  auto err = [](const std::string& assignment) {
    json doc = model_doc({conv(), conv()});
    ConfigSource src;
    return config_error_of([&] { apply_override(doc, assignment, src); });
  };
  EXPECT_EQ(err("layers.0.filters"), "--set layers.0.filters: expected PATH=VALUE, e.g. training.epochs=5");
  EXPECT_EQ(err("=3"), "--set =3: expected PATH=VALUE, e.g. training.epochs=5");
  EXPECT_EQ(err("layres.0.filters=3"),
            "--set layres.0.filters=3: unknown section 'layres' (did you mean 'layers'?); valid sections: name, "
            "description, data, evaluation, init, input, layers, training");
  EXPECT_EQ(err("layers.5.filters=3"), "--set layers.5.filters=3: index 5 out of range for /layers (2 entries)");
  EXPECT_EQ(err("layers.first.filters=3"), "--set layers.first.filters=3: /layers is a list; expected an index, got 'first'");
  EXPECT_EQ(err("layers..filters=3"), "--set layers..filters=3: empty name in path 'layers..filters'");
  EXPECT_EQ(err("input.channels.x=3"), "--set input.channels.x=3: /input/channels is 3, not an object; cannot set 'x' in it");
}

TEST(Override, LaterErrorsNameTheOption) {
  std::string mnist = cnnkit::test::config_path("mnist.json");
  EXPECT_EQ(config_error_of([&] { load_config(mnist, {"layers.0.filters=0"}); }),
            "--set layers.0.filters=0: must be between 1 and 65536; got 0");
  EXPECT_EQ(config_error_of([&] { load_config(mnist, {"layers.0.filters=many"}); }),
            "--set layers.0.filters=many: must be an integer; got \"many\"");
  EXPECT_EQ(config_error_of([&] { load_config(mnist, {"layers.2.rate=1"}); }),
            "--set layers.2.rate=1: must be in [0.0, 1.0); got 1");
  // An error below an overridden object names the option too.
  EXPECT_EQ(config_error_of([&] { load_config(mnist, {"layers.0={\"type\":\"conv2d\",\"filters\":8}"}); }),
            "--set layers.0={\"type\":\"conv2d\",\"filters\":8}: missing required field 'kernel_size'");
  // With several overrides, the one that supplied the bad value is named.
  EXPECT_EQ(config_error_of([&] { load_config(mnist, {"layers.0.filters=8", "layers.3.kernel_size=0"}); }),
            "--set layers.3.kernel_size=0: must be a positive integer or [h, w]; got 0");
  EXPECT_EQ(config_error_of([&] { load_config(mnist, {"layers.0.filters=8", "layers.3.stride=2"}); }),
            "--set layers.3.stride=2: unknown key 'stride' (did you mean 'strides'?); valid keys: type, name, filters, "
            "kernel_size, strides, padding, dilation, groups, bias, activation, alpha, batch_norm, maxpool, init, "
            "whitening_eps, trainable");
  // A key the option created (not the file) is the option's, even where the error is reported
  // above the leaf it set.
  EXPECT_EQ(config_error_of([&] { load_config(mnist, {"input.extra.x=1"}); }),
            "--set input.extra.x=1: unknown key 'extra'; valid keys: channels, height, width");
  // The most specific override wins.
  EXPECT_EQ(config_error_of([&] {
              load_config(mnist, {"layers.0={\"type\":\"conv2d\",\"filters\":8,\"kernel_size\":3}", "layers.0.filters=0"});
            }),
            "--set layers.0.filters=0: must be between 1 and 65536; got 0");
  EXPECT_EQ(config_error_of([&] {
              load_config(mnist, {"layers.0.filters=0", "layers.0={\"type\":\"conv2d\",\"filters\":-8,\"kernel_size\":3}"});
            }),
            "--set layers.0={\"type\":\"conv2d\",\"filters\":-8,\"kernel_size\":3}: must be between 1 and 65536; got -8")
      << "the later object replaced the earlier value";
  // Shape errors found when building name the option that supplied the size.
  EXPECT_EQ(config_error_of([&] { build_model(load_config(mnist, {"layers.1.pool_size=64"})); }),
            "--set layers.1.pool_size=64: maxpool2d 'maxpool2d' cannot take its input: pool_size 64×64 is larger than "
            "the input 28×28×32 (try padding \"same\")");
  EXPECT_EQ(config_error_of([&] { build_model(load_config(mnist, {"layers.0.filters=8"})); }), "<no error>");
  Config ok = load_config(mnist, {"layers.0.filters=16", "input.height=32"});
  EXPECT_EQ(ok.resolved()["layers"][0]["filters"], 16);
  EXPECT_EQ(ok.resolved()["input"]["height"], 32);
  EXPECT_EQ(ok.source().overrides.size(), 2u);
}
