// The one loader for trained models (eval/trained_model.h), hostile metadata: the exact
// messages for metadata that does not fit the model, and a stored config that cannot be built
// here (too large for this machine) is the checkpoint's problem (exit 1), not a config error.
// The loader's ordinary behaviour is in trained_model_test.cpp.
#include "cnnkit/eval/trained_model.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cnnkit/core/error.h"
#include "cnnkit/layers/layer_registry.h"
#include "support/cli.h"

using namespace cnnkit;

namespace {

Config tiny_config() {
  auto src = std::make_shared<ConfigSource>();
  src->file = "tiny.json";
  return resolve_config(json::parse(R"({"input": {"channels": 2, "height": 4, "width": 4},
      "layers": [{"type": "flatten"}, {"type": "dense", "units": 3}]})"),
                        src);
}

std::string save(const test::TempDir& dir, const json& meta) {
  Config c = tiny_config();
  Model m = build_model(c);
  CheckpointData data;
  data.config = c.resolved();
  data.meta = meta;
  const std::string path = dir.str("m.pt");
  save_checkpoint(path, m, data, nullptr);
  return path;
}

std::string load_error(const std::string& path) {
  try {
    load_trained_model(path);
  } catch (const CheckpointError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<other: ") + e.what() + ">";
  }
  return "<no error>";
}

const json kGood = {{"class_names", {"a", "b", "c"}}, {"normalization", {{"mean", {0.5, 0.5}}, {"std", {0.2, 0.3}}}}};

}  // namespace

TEST(TrainedModelMetadata, MetadataThatDoesNotFitTheModelIsRefused) {
  test::TempDir dir;
  const std::string where = dir.str("m.pt") + ": metadata ";
  json m = kGood;
  m.erase("normalization");
  EXPECT_EQ(load_error(save(dir, m)), where + "'normalization' is missing");
  m = kGood;
  m["normalization"]["mean"] = {0.5};
  EXPECT_EQ(load_error(save(dir, m)),
            where + "'normalization' has 1 means and 2 stds, but the model takes 2 channels");
  m = kGood;
  m["normalization"]["std"] = {0.2, 0.0};
  EXPECT_EQ(load_error(save(dir, m)), where + "'normalization'/std holds 0.000000; every std must be positive");
  m = kGood;
  m["normalization"]["std"] = {0.2, "x"};
  EXPECT_EQ(load_error(save(dir, m)), where + "'normalization'/std holds \"x\", not a number");
  m = kGood;
  m["class_names"] = {"a", "b"};
  EXPECT_EQ(load_error(save(dir, m)), where + "'class_names' has 2 names but the model has 3 outputs");
  m = kGood;
  m["class_names"] = "abc";
  EXPECT_EQ(load_error(save(dir, m)), where + "'class_names' must be a list of names; got \"abc\"");
}

TEST(TrainedModelMetadata, AStoredModelTooLargeForThisMachineExitsOne) {
  test::TempDir dir;
  const std::string path = save(dir, kGood);
  set_model_memory_limit(100);  // bytes: the 2×4×4 input alone is 128
  const std::string msg = load_error(path);
  set_model_memory_limit(0);
  EXPECT_EQ(msg.rfind(path + "#config:/input: the model: the input 4×4×2 brings the model to about", 0), 0u) << msg;
}
