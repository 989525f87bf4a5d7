// The one loader for trained models: checkpoint or run directory -> model, normalisation and
// class names, with damaged metadata refused naming the file and what is wrong.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cnnkit/eval/trained_model.h"
#include "cnnkit/model/init_weights.h"
#include "support/cli.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using namespace cnnkit::test;

namespace {

Config two_class_config() {
  json doc = model_doc({{{"type", "flatten"}}, {{"type", "dense"}, {"units", 2}}}, 3, 2, 2);
  return resolve_doc(doc);
}

std::string write_checkpoint(const TempDir& dir, const json& meta, const std::string& name = "m.pt") {
  Config c = two_class_config();
  Model m = build_model(c);
  CheckpointData cd;
  cd.config = c.resolved();
  cd.meta = meta;
  std::string path = dir.str(name);
  save_checkpoint(path, m, cd, nullptr);
  return path;
}

json good_meta() {
  return {{"class_names", {"cat", "dog"}}, {"normalization", {{"mean", {0.5, 0.5, 0.5}}, {"std", {0.2, 0.2, 0.2}}}}};
}

std::string error_of(const std::string& path) {
  try {
    load_trained_model(path);
  } catch (const CheckpointError& e) {
    return e.what();
  }
  return "<no CheckpointError>";
}

}  // namespace

TEST(TrainedModel, LoadsModelNormalizationAndNames) {
  TempDir dir;
  std::string path = write_checkpoint(dir, good_meta(), "best.pt");
  TrainedModel t = load_trained_model(dir.str());  // a run directory: its best.pt
  EXPECT_EQ(t.checkpoint.path, path);
  EXPECT_EQ(t.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(t.normalization.std, (std::vector<double>{0.2, 0.2, 0.2}));
  EXPECT_EQ(t.model.num_outputs(), 2);
  EXPECT_FALSE(t.model.net->is_training());
}

TEST(TrainedModel, DamagedMetadataIsRefusedNamingTheFile) {
  TempDir dir;
  struct Case {
    std::string name;
    json meta;
    std::string expected;
  };
  std::vector<Case> cases;
  json m = good_meta();
  m.erase("normalization");
  cases.push_back({"no_norm.pt", m, "metadata 'normalization' is missing"});
  m = good_meta();
  m["normalization"]["std"] = {0.2, 0.0, 0.2};
  cases.push_back({"zero_std.pt", m, "every std must be positive"});
  m = good_meta();
  m["normalization"]["mean"] = {0.5};
  m["normalization"]["std"] = {0.2};
  cases.push_back({"channels.pt", m, "has 1 means and 1 stds, but the model takes 3 channels"});
  m = good_meta();
  m["normalization"]["mean"] = {"a", 0.5, 0.5};
  cases.push_back({"mistyped.pt", m, "holds \"a\", not a number"});
  m = good_meta();
  m["normalization"] = "auto";
  cases.push_back({"string_norm.pt", m, "must be {\"mean\": [...], \"std\": [...]}"});
  m = good_meta();
  m["class_names"] = {"cat"};
  cases.push_back({"names.pt", m, "has 1 names but the model has 2 outputs"});
  m = good_meta();
  m["class_names"] = {"cat", 7};
  cases.push_back({"name_type.pt", m, "holds 7, not a name"});
  m = good_meta();
  m.erase("class_names");
  cases.push_back({"no_names.pt", m, "metadata 'class_names' is missing"});
  for (const auto& c : cases) {
    std::string path = write_checkpoint(dir, c.meta, c.name);
    std::string e = error_of(path);
    EXPECT_EQ(e.rfind(path + ": ", 0), 0u) << c.name << ": " << e;
    EXPECT_NE(e.find(c.expected), std::string::npos) << c.name << ": " << e;
  }
}

TEST(TrainedModel, AConfigThatDoesNotMatchTheCheckpointIsRefused) {
  TempDir dir;
  std::string path = write_checkpoint(dir, good_meta());
  json other = model_doc({{{"type", "flatten"}}, {{"type", "dense"}, {"units", 2}}}, 1, 2, 2);
  try {
    load_trained_model(path, "best.pt", resolve_doc(other, "other.json"));
    FAIL() << "no error";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("checkpoint does not match the config other.json"), std::string::npos);
  }
}

TEST(TrainedModel, ErrorsInTheStoredConfigAreCheckpointErrorsButOverridesAreTheUsers) {
  TempDir dir;
  std::string path = write_checkpoint(dir, good_meta());
  LoadedCheckpoint ck = read_checkpoint(path);
  EXPECT_TRUE(ck.config.source().stored);
  // A bad --set on the stored config is the user's error (exit 2) ...
  EXPECT_THROW(with_overrides(ck.config, {"training.epochs=-1"}), ConfigError);
  try {
    with_overrides(ck.config, {"training.epochs=-1"});
  } catch (const CheckpointError&) {
    FAIL() << "an override error must not be a CheckpointError";
  } catch (const ConfigError&) {
  }
  // ... while a damaged stored value is the checkpoint's (exit 1).
  json raw = ck.config.resolved();
  raw["training"]["epochs"] = -4;
  auto src = std::make_shared<ConfigSource>(ck.config.source());
  EXPECT_THROW(resolve_config(raw, src), CheckpointError);
}

// Weight sets (training.ema): a checkpoint's default set is what the loader (evaluate, predict,
// featuremap, export) and train --init-weights take; "raw" on request; an unknown set is a
// usage error listing the ones it holds.
TEST(TrainedModel, LoadsTheCheckpointsDefaultWeightSetAndRawOnRequest) {
  TempDir dir;
  Config c = two_class_config();
  Model m = build_model(c);
  CheckpointData cd;
  cd.config = c.resolved();
  cd.meta = good_meta();
  cd.meta["weight_sets"] = {{"ema", {{"prefix", "observer/ema/"}, {"description", "an average"}}}};
  cd.meta["default_weights"] = "ema";
  for (auto& p : m.net->named_parameters(true)) cd.tensors["observer/ema/" + p.key()] = torch::full_like(p.value(), 0.25);
  const std::string path = dir.str("last.pt");
  save_checkpoint(path, m, cd, nullptr);
  const torch::Tensor raw_weight = m.net->named_parameters(true)["dense.linear.weight"].clone();

  TrainedModel ema = load_trained_model(path);
  EXPECT_EQ(ema.weights, "ema");
  EXPECT_EQ(ema.weights_description, "an average");
  auto w = ema.model.net->named_parameters(true)["dense.linear.weight"];
  EXPECT_TRUE(torch::equal(w, torch::full_like(w, 0.25)));

  TrainedModel raw = load_trained_model(path, "best.pt", std::nullopt, {}, "raw");
  EXPECT_EQ(raw.weights, "raw");
  EXPECT_TRUE(torch::equal(raw.model.net->named_parameters(true)["dense.linear.weight"], raw_weight));

  try {
    load_trained_model(path, "best.pt", std::nullopt, {}, "swa");
    ADD_FAILURE() << "no UsageError";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("holds no weight set 'swa'; it holds raw, ema"), std::string::npos) << e.what();
  }

  // train --init-weights with this checkpoint starts from the weights the run reported.
  Model fresh = build_model(c);
  load_init_weights(fresh, path);
  auto f = fresh.net->named_parameters(true)["dense.linear.weight"];
  EXPECT_TRUE(torch::equal(f, torch::full_like(f, 0.25)));
}
