// The training section's time-to-accuracy keys: precision auto, the linear scaling rule,
// validate_every.
#include <gtest/gtest.h>

#include "cnnkit/core/runtime_info.h"
#include "cnnkit/train/training_config.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using namespace cnnkit::test;

namespace {
TrainingConfig training(const json& section) {
  json doc = model_doc({{{"type", "flatten"}}}, 1, 2, 2);
  doc["training"] = section;
  return TrainingConfig::from(resolve_doc(doc));
}
std::string training_error(const json& section) {
  json doc = model_doc({{{"type", "flatten"}}}, 1, 2, 2);
  doc["training"] = section;
  return config_error_of([&] { resolve_doc(doc); });
}
}  // namespace

TEST(TrainingConfig, PrecisionAutoIsBf16OnCudaAndOnCpusWithBf16) {
  TrainingConfig t = training({{"precision", "auto"}});
  EXPECT_EQ(t.precision, "auto");  // the resolved config keeps what was asked
  EXPECT_EQ(t.effective_precision(c10::Device(c10::kCUDA, 0)), "bf16");
  EXPECT_EQ(t.effective_precision(c10::kCPU), cpu_has_bf16() ? "bf16" : "fp32");
  EXPECT_EQ(t.bf16(c10::kCPU), cpu_has_bf16());
  EXPECT_NE(t.describe_precision(c10::kCPU).find("(auto: this CPU"), std::string::npos);
  TrainingConfig f = training({{"precision", "fp32"}});
  EXPECT_EQ(f.effective_precision(c10::Device(c10::kCUDA, 0)), "fp32");  // as given
  EXPECT_EQ(f.describe_precision(c10::kCPU), "fp32");
  EXPECT_NE(training_error({{"precision", "fp16"}}).find("/training/precision: must be one of fp32, bf16, auto"),
            std::string::npos);
}

TEST(TrainingConfig, LrBatchSizeScalesTheRateWithTheBatch) {
  EXPECT_DOUBLE_EQ(training({{"batch_size", 512}, {"optimizer", {{"type", "sgd"}, {"lr", 1.5}, {"lr_batch_size", 1024}}}})
                       .lr(),
                   0.75);
  EXPECT_DOUBLE_EQ(training({{"batch_size", 512}, {"optimizer", {{"type", "sgd"}, {"lr", 1.5}}}}).lr(), 1.5);
}

TEST(TrainingConfig, ValidateEvery) {
  EXPECT_EQ(training(json::object()).validate_every, 1);
  EXPECT_EQ(training({{"validate_every", 0}}).validate_every, 0);
  EXPECT_NE(training_error({{"validate_every", -1}}).find("/training/validate_every"), std::string::npos);
}
