// ConfigView: every failure kind names the file and JSON pointer (or the --set option that
// supplied the value), what was expected and what was found. Also the message helpers in
// core/strings (commas, "did you mean").
#include <gtest/gtest.h>

#include "cnnkit/config/config_view.h"
#include "cnnkit/core/error.h"
#include "cnnkit/core/strings.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using cnnkit::test::config_error_of;

namespace {

const json kDoc = json::parse(R"({
  "n": 3, "f": 3.0, "half": 2.5, "neg": -3, "s": "3", "b": true, "word": "relu",
  "list": [1, 2], "empty": [], "obj": {"a~b": 1, "c/d": 2},
  "long": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
})");

ConfigView root() { return ConfigView(kDoc, cnnkit::test::test_source("x.json")); }

}  // namespace

TEST(ConfigView, WhereNamesFileAndPointer) {
  EXPECT_EQ(root().where(), "x.json:/");
  EXPECT_EQ(root().at("list").at(1).where(), "x.json:/list/1");
  // RFC 6901 escapes: '~' -> ~0, '/' -> ~1.
  EXPECT_EQ(root().at("obj").at("a~b").where(), "x.json:/obj/a~0b");
  EXPECT_EQ(root().at("obj").at("c/d").where(), "x.json:/obj/c~1d");
  EXPECT_EQ(config_error_of([] { root().at("n").fail("boom"); }), "x.json:/n: boom");
  // The errors are ConfigErrors: exit code 2.
  try {
    root().at("missing");
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
  }
}

TEST(ConfigView, OverriddenValuesAreAttributedToTheirOption) {
  auto src = cnnkit::test::test_source("x.json");
  src->overrides["/obj"] = "--set obj={\"a~b\":1}";
  src->overrides["/list/1"] = "--set list.1=2";
  ConfigView r(kDoc, src);
  EXPECT_EQ(r.at("obj").where(), "--set obj={\"a~b\":1}");
  EXPECT_EQ(r.at("obj").at("a~b").where(), "--set obj={\"a~b\":1}");  // below the override too
  EXPECT_EQ(r.at("list").at(1).where(), "--set list.1=2");
  EXPECT_EQ(r.at("list").at(0).where(), "x.json:/list/0");
  EXPECT_EQ(r.at("list").where(), "x.json:/list");  // the parent is still the file's
  // The most specific override wins, whatever the order of the pointers.
  src->overrides["/list"] = "--set list=[1,2]";
  EXPECT_EQ(r.at("list").at(1).where(), "--set list.1=2");
  EXPECT_EQ(r.at("list").at(0).where(), "--set list=[1,2]");
}

TEST(ConfigView, MissingRequiredField) {
  EXPECT_EQ(config_error_of([] { root().at("filters"); }), "x.json:/: missing required field 'filters'");
  EXPECT_EQ(config_error_of([] { root().at("obj").at("filters"); }), "x.json:/obj: missing required field 'filters'");
  EXPECT_EQ(config_error_of([] { root().at("list").at(2); }), "x.json:/list: index 2 out of range");
}

TEST(ConfigView, WrongTypes) {
  EXPECT_EQ(config_error_of([] { root().at("s").as_int(); }), "x.json:/s: must be an integer; got \"3\"");
  EXPECT_EQ(config_error_of([] { root().at("half").as_int(); }), "x.json:/half: must be an integer; got 2.5");
  EXPECT_EQ(config_error_of([] { root().at("s").as_double(); }), "x.json:/s: must be a number; got \"3\"");
  EXPECT_EQ(config_error_of([] { root().at("n").as_bool(); }), "x.json:/n: must be true or false; got 3");
  EXPECT_EQ(config_error_of([] { root().at("n").as_string(); }), "x.json:/n: must be a string; got 3");
  EXPECT_EQ(config_error_of([] { root().at("list").require_object(); }), "x.json:/list: must be an object; got an array [1,2]");
  EXPECT_EQ(config_error_of([] { root().at("obj").require_array(); }),
            "x.json:/obj: must be an array; got an object {\"a~b\":1,\"c/d\":2}");
  EXPECT_EQ(config_error_of([] { root().at("empty").require_array(true); }), "x.json:/empty: must not be empty");
  EXPECT_EQ(config_error_of([] { root().at("word").as_double_list(2); }),
            "x.json:/word: must be an array of 2 numbers; got \"relu\"");
  EXPECT_EQ(root().at("list").as_double_list(2), (std::vector<double>{1.0, 2.0}));
  // An integral float is an integer.
  EXPECT_TRUE(root().at("f").is_integer());
  EXPECT_EQ(root().at("f").as_int(), 3);
  EXPECT_FALSE(root().at("half").is_integer());
}

TEST(ConfigView, OutOfRange) {
  EXPECT_EQ(config_error_of([] { root().at("neg").as_int(1); }), "x.json:/neg: must be positive; got -3");
  EXPECT_EQ(config_error_of([] { root().at("neg").as_int(0); }), "x.json:/neg: must be zero or more; got -3");
  EXPECT_EQ(config_error_of([] { root().at("n").as_int(1, 2); }), "x.json:/n: must be between 1 and 2; got 3");
  EXPECT_EQ(config_error_of([] { root().at("n").as_int(5); }), "x.json:/n: must be at least 5; got 3");
  EXPECT_EQ(config_error_of([] { root().at("n").as_int(INT64_MIN, 2); }), "x.json:/n: must be at most 2; got 3");
  EXPECT_EQ(config_error_of([] { root().at("half").as_double_in(0.0, 1.0, true, false); }),
            "x.json:/half: must be in [0.0, 1.0); got 2.5");
  EXPECT_EQ(config_error_of([] { root().at("neg").as_double_in(0.0, 1.0, false, true); }),
            "x.json:/neg: must be in (0.0, 1.0]; got -3");
  EXPECT_DOUBLE_EQ(root().at("half").as_double_in(2.5, 3.0), 2.5);
}

TEST(ConfigView, ChoicesSuggestTheClosest) {
  EXPECT_EQ(root().at("word").as_choice({"relu", "tanh"}), "relu");
  EXPECT_EQ(config_error_of([] { root().at("word").as_choice({"rely", "tanh"}); }),
            "x.json:/word: must be one of rely, tanh; got \"relu\" (did you mean 'rely'?)");
  EXPECT_EQ(config_error_of([] { root().at("word").as_choice({"sigmoid", "softmax"}); }),
            "x.json:/word: must be one of sigmoid, softmax; got \"relu\"");
  EXPECT_EQ(config_error_of([] { root().at("n").as_choice({"a", "b"}); }), "x.json:/n: must be one of a, b; got 3");
}

TEST(ConfigView, UnknownKeysListTheValidOnes) {
  EXPECT_EQ(config_error_of([] { root().at("obj").check_keys({"a~b", "c/e"}); }),
            "x.json:/obj/c~1d: unknown key 'c/d' (did you mean 'c/e'?); valid keys: a~b, c/e");
  EXPECT_EQ(config_error_of([] { root().at("obj").check_keys({"a~b", "xyz"}); }),
            "x.json:/obj/c~1d: unknown key 'c/d'; valid keys: a~b, xyz");
  EXPECT_NO_THROW(root().at("obj").check_keys({"c/d", "a~b", "other"}));
}

TEST(ConfigView, OptionalGettersUseDefaults) {
  EXPECT_EQ(root().get_int("nothing", 7), 7);
  EXPECT_EQ(root().get_int("n", 7), 3);
  EXPECT_EQ(root().get_string("nothing", "d"), "d");
  EXPECT_EQ(root().get_bool("b", false), true);
  EXPECT_DOUBLE_EQ(root().get_double("half", 0), 2.5);
  EXPECT_EQ(root().get_choice("nothing", "tanh", {"relu", "tanh"}), "tanh");
  EXPECT_EQ(config_error_of([] { root().get_int("n", 7, 4); }), "x.json:/n: must be at least 4; got 3");
  EXPECT_FALSE(root().find("nothing").has_value());
  EXPECT_EQ(root().find("n")->pointer(), "/n");
}

TEST(ConfigView, RenderShortensLongValues) {
  std::string r = ConfigView::render(kDoc["long"]);
  EXPECT_EQ(r.size(), 60u);
  EXPECT_EQ(r.substr(57), "...");
  EXPECT_EQ(ConfigView::render(json("ab")), "\"ab\"");
}

TEST(Strings, MessageHelpers) {
  EXPECT_EQ(with_commas(113162), "113,162");
  EXPECT_EQ(with_commas(271914), "271,914");
  EXPECT_EQ(with_commas(999), "999");
  EXPECT_EQ(with_commas(1000), "1,000");
  EXPECT_EQ(with_commas(0), "0");
  EXPECT_EQ(with_commas(-1234567), "-1,234,567");
  EXPECT_EQ(human_count(58657280), "58.66M");
  EXPECT_EQ(human_count(999), "999");
  EXPECT_EQ(human_bytes(1536), "1.50 KiB");
  EXPECT_EQ(human_bytes(100), "100 B");
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(closest_match("conv2", {"conv2d", "dense"}), "conv2d");
  EXPECT_EQ(closest_match("xyz", {"conv2d", "dense"}), "");
  EXPECT_EQ(did_you_mean("dens", {"conv2d", "dense"}), " (did you mean 'dense'?)");
  EXPECT_EQ(did_you_mean("pooling", {"conv2d", "dense"}), "");
  EXPECT_EQ(split("a.b..c", '.'), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(split("a.", '.'), (std::vector<std::string>{"a", ""}));
  EXPECT_EQ(trim("  x y \n"), "x y");
  EXPECT_EQ(join({"a", "b", "c"}, ", "), "a, b, c");
}
