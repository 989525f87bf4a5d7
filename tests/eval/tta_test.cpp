// Test-time augmentation: the views and their weights (airbench's "level 2" for flip +
// translate 1), the evaluation section, and evaluate() reporting TTA beside the plain figures.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cnnkit/data/pipeline.h"
#include "cnnkit/eval/evaluator.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using namespace cnnkit::test;

namespace {

Model dense_model() {
  torch::manual_seed(7);
  return build_model(resolve_doc(model_doc({{{"type", "flatten"}}, {{"type", "dense"}, {"units", 3}}}, 2, 5, 5)));
}

torch::Tensor f(Model& m, const torch::Tensor& x) { return m.net->forward(x); }

// airbench's infer_mirror_translate, written out with reflect padding and slices.
torch::Tensor airbench_level2(Model& m, const torch::Tensor& x) {
  auto mirror = [&](const torch::Tensor& v) { return 0.5 * f(m, v) + 0.5 * f(m, v.flip({3})); };
  auto padded = torch::nn::functional::pad(
      x, torch::nn::functional::PadFuncOptions({1, 1, 1, 1}).mode(torch::kReflect));
  auto up_left = padded.slice(2, 0, 5).slice(3, 0, 5), down_right = padded.slice(2, 2, 7).slice(3, 2, 7);
  return 0.5 * mirror(x) + 0.5 * (mirror(up_left) + mirror(down_right)) / 2;
}

TtaOptions tta(const json& value) {
  auto src = test_source();
  return parse_tta(ConfigView(value, src, "/evaluation/tta"));
}

}  // namespace

TEST(Tta, FlipAveragesTheMirrorImage) {
  Model m = dense_model();
  torch::NoGradGuard no_grad;
  auto x = torch::randn({4, 2, 5, 5});
  EvalOptions o;
  o.tta = tta("flip");
  EXPECT_EQ(o.tta.views(), 2);
  EXPECT_TRUE(torch::allclose(tta_logits(m, x, {}, o), (f(m, x) + f(m, x.flip({3}))) / 2, 1e-5, 1e-6));
  // The plain logits can be passed in (the evaluator already has them).
  EXPECT_TRUE(torch::allclose(tta_logits(m, x, f(m, x), o), tta_logits(m, x, {}, o), 1e-6, 1e-7));
}

TEST(Tta, FlipTranslateIsAirbenchLevel2) {
  Model m = dense_model();
  torch::NoGradGuard no_grad;
  auto x = torch::randn({3, 2, 5, 5});
  EvalOptions o;
  o.tta = tta("flip_translate");
  EXPECT_EQ(o.tta.views(), 6);
  EXPECT_EQ(o.tta.describe(), "flip + translate 1 px (6 views)");
  EXPECT_TRUE(torch::allclose(tta_logits(m, x, {}, o), airbench_level2(m, x), 1e-5, 1e-6));
  o.tta = tta(json{{"translate", 9}});
  EXPECT_THROW(tta_logits(m, x, {}, o), DataError);  // larger than the 5x5 image
}

TEST(Tta, SectionResolvesToFlipAndTranslate) {
  json doc = model_doc({{{"type", "flatten"}}}, 1, 2, 2);
  EXPECT_FALSE(resolve_doc(doc).has_section("evaluation"));  // optional: left out
  EXPECT_FALSE(tta_options_from(resolve_doc(doc)).enabled());
  doc["evaluation"] = {{"tta", "flip_translate"}};
  Config c = resolve_doc(doc);
  EXPECT_EQ(c.resolved()["evaluation"], (json{{"tta", {{"flip", true}, {"translate", 1}}}}));
  EXPECT_EQ(tta_options_from(c).views(), 6);
  EXPECT_EQ(resolve_doc(c.resolved()).resolved(), c.resolved());  // resolving again changes nothing
  doc["evaluation"] = {{"tta", "mirror"}};
  EXPECT_NE(config_error_of([&] { resolve_doc(doc); }).find("test.json:/evaluation/tta: must be one of none, flip, "
                                                             "flip_translate"),
            std::string::npos);
  doc["evaluation"] = {{"tta", {{"flip", true}, {"translate", -1}}}};
  EXPECT_NE(config_error_of([&] { resolve_doc(doc); }).find("/evaluation/tta/translate"), std::string::npos);
  doc["evaluation"] = {{"ttta", "flip"}};
  EXPECT_NE(config_error_of([&] { resolve_doc(doc); }).find("unknown key 'ttta' (did you mean 'tta'?)"),
            std::string::npos);
}

TEST(Tta, EvaluateReportsItBesideThePlainFigures) {
  Model m = dense_model();
  Config c = resolve_doc(model_doc({{{"type", "flatten"}}, {{"type", "dense"}, {"units", 3}}}, 2, 5, 5));
  ImageSet set;
  set.images = torch::randint(0, 256, {10, 2, 5, 5}, torch::kUInt8);
  set.labels = torch::randint(0, 3, {10}, torch::kInt64);
  BatchPipeline pipeline(c, Normalization{{0.5, 0.5}, {0.25, 0.25}}, torch::kCPU);
  EvalOptions o;
  o.batch_size = 4;
  EvalResult plain = evaluate(m, set, pipeline, torch::kCPU, {"a", "b", "c"}, o);
  EXPECT_EQ(plain.tta, nullptr);
  EXPECT_FALSE(plain.to_json().contains("tta"));
  o.tta = tta("flip");
  EvalResult r = evaluate(m, set, pipeline, torch::kCPU, {"a", "b", "c"}, o);
  EXPECT_DOUBLE_EQ(r.top1, plain.top1);  // the plain figures are the same
  ASSERT_NE(r.tta, nullptr);
  // The TTA figures are those of the averaged logits.
  at::Generator gen = at::detail::createCPUGenerator(0);
  torch::NoGradGuard no_grad;
  auto x = pipeline.batch(set, torch::arange(10), false, gen);
  auto logits = (f(m, x) + f(m, x.flip({3}))) / 2;
  EXPECT_NEAR(r.tta->top1, logits.argmax(1).eq(set.labels).to(torch::kDouble).mean().item<double>(), 1e-12);
  json j = r.to_json();
  EXPECT_EQ(j["tta"]["views"], 2);
  EXPECT_EQ(j["tta"]["flip"], true);
  EXPECT_EQ(j["tta"]["count"], 10);
  EXPECT_NE(format_evaluation(j).find("with test-time augmentation, flip (2 views):"), std::string::npos);
}
