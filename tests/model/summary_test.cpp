// summarize() and format_summary(): the JSON document's fields and figures, and the table.
#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "cnnkit/core/strings.h"
#include "cnnkit/model/summary.h"
#include "support/cli.h"
#include "support/model_helpers.h"

using namespace cnnkit;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

bool has_line(const std::string& text, const std::string& pattern) {
  std::regex re(pattern);
  for (const auto& l : lines_of(text))
    if (std::regex_match(l, re)) return true;
  return false;
}

json summary_of(const std::string& seed) {
  Config c = load_config(cnnkit::test::config_path(seed));
  Model m = build_model(c);
  return summarize(m, c.name());
}

}  // namespace

TEST(Summary, JsonFieldsForMnist) {
  json s = summary_of("mnist.json");
  EXPECT_EQ(s["model"], "mnist");
  EXPECT_EQ(s["input_shape"], json({{"channels", 1}, {"height", 28}, {"width", 28}}));
  EXPECT_EQ(s["input_shape_str"], "28×28×1");
  EXPECT_EQ(s["total_params"], 113162);
  EXPECT_EQ(s["trainable_params"], 113162);
  EXPECT_EQ(s["non_trainable_params"], 0);
  EXPECT_EQ(s["param_bytes"], 113162 * 4);
  EXPECT_EQ(s["macs_per_image"], 7471616);
  EXPECT_EQ(s["flops_per_image"], 2 * 7471616);
  // float32 outputs of every layer: 28·28·32 + 2·14·14·32 + 14·14·64 + 2·7·7·64 + 7·7·128 + 3·2048 + 10.
  EXPECT_EQ(s["activation_bytes_per_image"], 4 * 68874);
  ASSERT_EQ(s["layers"].size(), 11u);
  EXPECT_EQ(s["layers"][0], json({{"index", "0"},
                                  {"depth", 0},
                                  {"name", "conv2d"},
                                  {"type", "conv2d"},
                                  {"output_shape", {{"channels", 32}, {"height", 28}, {"width", 28}}},
                                  {"output_shape_str", "28×28×32"},
                                  {"params", 320},
                                  {"trainable_params", 320},
                                  {"macs", 225792},
                                  {"activation_bytes", 28 * 28 * 32 * 4}}));
  EXPECT_EQ(s["layers"][9]["output_shape"], json({{"features", 2048}}));
  EXPECT_EQ(s["layers"][10]["name"], "dense");
  EXPECT_EQ(s["layers"][10]["params"], 20490);
  std::int64_t sum = 0;
  for (const auto& r : s["layers"]) sum += r["params"].get<std::int64_t>();
  EXPECT_EQ(sum, 113162);
}

TEST(Summary, FlopsAreTwiceMacsForCifar) {
  json s = summary_of("cifar.json");
  EXPECT_EQ(s["total_params"], 271914);
  EXPECT_EQ(s["flops_per_image"], 2 * s["macs_per_image"].get<std::int64_t>());
  EXPECT_NEAR(s["flops_per_image"].get<double>() / 1e6, 58.66, 0.005);
  EXPECT_EQ(human_count(s["flops_per_image"].get<double>()), "58.66M");
}

TEST(Summary, TableForMnist) {
  std::string t = format_summary(summary_of("mnist.json"));
  auto lines = lines_of(t);
  ASSERT_GE(lines.size(), 20u);
  EXPECT_EQ(lines[0], "Model: \"mnist\"    input: 28×28×1 (H×W×C)");
  EXPECT_TRUE(has_line(t, "#  +Layer \\(type\\) +Output shape +Param # +Mult-adds +Activations")) << t;
  EXPECT_TRUE(has_line(t, "0  +conv2d \\(conv2d\\) +28×28×32 +320 +225.79K +98.00 KiB")) << t;
  EXPECT_TRUE(has_line(t, "3  +conv2d_1 \\(conv2d\\) +14×14×64 +18,496 +3.61M +49.00 KiB")) << t;
  EXPECT_TRUE(has_line(t, "9  +flatten \\(flatten\\) +2048 +0 +0 +8.00 KiB")) << t;
  EXPECT_TRUE(has_line(t, "10 +dense \\(dense\\) +10 +20,490 +20.48K +40 B")) << t;
  EXPECT_NE(t.find("\nTotal params: 113,162 (442.04 KiB)\n"), std::string::npos) << t;
  EXPECT_NE(t.find("\nTrainable params: 113,162\n"), std::string::npos) << t;
  EXPECT_NE(t.find("\nNon-trainable params: 0\n"), std::string::npos) << t;
  EXPECT_NE(t.find("\nMult-adds per image: 7.47M (14.94M FLOPs forward, about 3× that to train)\n"), std::string::npos) << t;
  EXPECT_NE(t.find("\nActivations per image: 269.04 KiB (float32 layer outputs, forward)\n"), std::string::npos) << t;
  // Columns line up: every row of the table is as wide as the header row.
  auto width = [](const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  };
  std::size_t header = width(lines[2]);
  for (std::size_t i = 4; i < 15; ++i) EXPECT_EQ(width(lines[i]), header) << lines[i];
}

TEST(Summary, NestedRowsAndNonTrainableParams) {
  json layers = {{{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3}, {"padding", "same"}, {"batch_norm", true}},
                 {{"type", "residual"},
                  {"name", "block"},
                  {"layers",
                   {{{"type", "conv2d"}, {"filters", 8}, {"kernel_size", 3}, {"strides", 2}, {"padding", "same"}},
                    {{"type", "conv2d"}, {"name", "inner"}, {"filters", 8}, {"kernel_size", 3}, {"padding", "same"}}}}},
                 {{"type", "global_avgpool2d"}},
                 {{"type", "dense"}, {"units", 3}}};
  Model m = build_model(cnnkit::test::resolve_doc(cnnkit::test::model_doc(layers, 3, 8, 8)));
  json s = summarize(m, "nested");
  std::vector<std::string> index, names;
  std::vector<int> depth;
  for (const auto& r : s["layers"]) {
    index.push_back(r["index"]);
    names.push_back(r["name"]);
    depth.push_back(r["depth"]);
  }
  EXPECT_EQ(index, (std::vector<std::string>{"0", "1", "1.0", "1.1", "2", "3"}));
  EXPECT_EQ(names, (std::vector<std::string>{"conv2d", "block", "conv2d_1", "inner", "global_avgpool2d", "dense"}));
  EXPECT_EQ(depth, (std::vector<int>{0, 0, 1, 1, 0, 0}));
  const std::int64_t conv0 = 4 * 27 + 8, body = (8 * 36 + 8) + (8 * 72 + 8), projection = 4 * 8 + 4 * 8;
  EXPECT_EQ(s["layers"][0]["params"], conv0 + 8);
  EXPECT_EQ(s["layers"][0]["trainable_params"], conv0);
  EXPECT_EQ(s["layers"][1]["params"], body + projection);
  EXPECT_EQ(s["layers"][1]["trainable_params"], body + projection - 2 * 8);
  EXPECT_EQ(s["layers"][3]["params"], 8 * 72 + 8);
  EXPECT_EQ(s["total_params"], conv0 + 8 + body + projection + 8 * 3 + 3);
  EXPECT_EQ(s["non_trainable_params"], 2 * 4 + 2 * 8);
  // Totals count top-level layers once (nested rows are part of their block).
  EXPECT_EQ(s["macs_per_image"], 8 * 8 * 4 * 27 + (4 * 4 * 8 * 36 + 4 * 4 * 8 * 72 + 4 * 4 * 8 * 4) + 8 * 3);
  EXPECT_EQ(s["activation_bytes_per_image"], 4 * (8 * 8 * 4 + 4 * 4 * 8 + 8 + 3));

  std::string t = format_summary(s);
  EXPECT_TRUE(has_line(t, "1\\.1 +└ inner \\(conv2d\\) +4×4×8 +584 +.*")) << t;
  EXPECT_TRUE(has_line(t, "1 +block \\(residual\\) +4×4×8 +.*")) << t;
  EXPECT_NE(t.find("\nNon-trainable params: 24\n"), std::string::npos) << t;
}
