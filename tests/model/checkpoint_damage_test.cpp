// Checkpoints damaged beyond the archive (issue 12, class 4): a readable torch archive whose
// records are missing or of the wrong type, whose stored config or metadata is bad, whose
// weights have another dtype or hold NaN; and checkpoint paths that are not regular files.
// Each is a CheckpointError (exit 1) naming the file and what is wrong.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <torch/torch.h>

#include <filesystem>
#include <functional>

#include "cnnkit/config/config.h"
#include "cnnkit/core/error.h"
#include "cnnkit/model/checkpoint.h"
#include "cnnkit/model/model.h"
#include "support/cli.h"

using namespace cnnkit;
namespace fs = std::filesystem;

namespace {

const char* kConfig = R"({"name": "tiny", "input": {"channels": 1, "height": 6, "width": 6},
  "layers": [{"type": "conv2d", "filters": 2, "kernel_size": 3, "batch_norm": true},
             {"type": "global_avgpool2d"}, {"type": "dense", "units": 3}]})";

// What a test changes in an otherwise good archive.
struct Recipe {
  std::map<std::string, c10::IValue> records = {{"cnnkit/format", std::string("cnnkit-checkpoint")},
                                                {"cnnkit/version", std::int64_t(1)},
                                                {"cnnkit/config", std::string(kConfig)},
                                                {"cnnkit/meta", std::string("{}")}};
  std::function<void(std::vector<std::pair<std::string, torch::Tensor>>&)> damage_weights;
  // A weight set "ema" (prefix "ema/": every weight again, under "tensors"), damaged by this.
  std::function<void(std::vector<std::pair<std::string, torch::Tensor>>&)> ema_set;
};

std::string write_archive(const test::TempDir& dir, const Recipe& r) {
  auto src = std::make_shared<ConfigSource>();
  Model m = build_model(resolve_config(json::parse(kConfig), src));
  std::vector<std::pair<std::string, torch::Tensor>> params;
  for (const auto& p : m.net->named_parameters(true)) params.emplace_back(p.key(), p.value().detach().clone());
  if (r.damage_weights) r.damage_weights(params);
  torch::serialize::OutputArchive archive, weights;
  for (const auto& [k, v] : r.records) archive.write(k, v);
  for (const auto& [k, t] : params) weights.write(k, t);
  for (const auto& b : m.net->named_buffers(true)) weights.write(b.key(), b.value(), true);
  archive.write("model", weights);
  if (r.ema_set) {
    std::vector<std::pair<std::string, torch::Tensor>> set;
    for (const auto& p : m.net->named_parameters(true)) set.emplace_back(p.key(), p.value().detach().clone());
    for (const auto& b : m.net->named_buffers(true)) set.emplace_back(b.key(), b.value().detach().clone());
    r.ema_set(set);
    torch::serialize::OutputArchive tensors;
    for (const auto& [k, t] : set) tensors.write("ema/" + k, t);
    archive.write("tensors", tensors);
  }
  const std::string path = dir.str("damaged.pt");
  archive.save_to(path);
  return path;
}

// The CheckpointError message of reading `path` and loading its weights (or weight set `set`)
// into its own model.
std::string load_error(const std::string& path, const std::string& set = kRawWeights) {
  try {
    LoadedCheckpoint ck = read_checkpoint(path);
    Model m = build_model(ck.config);
    load_weights(ck, m, set);
  } catch (const CheckpointError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<other: ") + e.what() + ">";
  }
  return "<no error>";
}

}  // namespace

TEST(CheckpointDamage, GoodRecipeLoads) {
  test::TempDir dir;
  EXPECT_EQ(load_error(write_archive(dir, {})), "<no error>");
}

TEST(CheckpointDamage, MissingOrMistypedRecords) {
  test::TempDir dir;
  auto with = [&](const std::string& key, std::optional<c10::IValue> value) {
    Recipe r;
    if (value) r.records[key] = *value;
    else r.records.erase(key);
    return load_error(write_archive(dir, r));
  };
  const std::string p = dir.str("damaged.pt");
  EXPECT_EQ(with("cnnkit/version", std::nullopt),
            p + ": damaged checkpoint: record 'cnnkit/version' is missing or not an integer");
  EXPECT_EQ(with("cnnkit/version", c10::IValue(std::string("1"))),
            p + ": damaged checkpoint: record 'cnnkit/version' is missing or not an integer");
  EXPECT_EQ(with("cnnkit/version", c10::IValue(std::int64_t(-3))), p + ": damaged checkpoint: format version -3");
  EXPECT_EQ(with("cnnkit/config", std::nullopt), p + ": damaged checkpoint: no 'cnnkit/config' record");
  EXPECT_EQ(with("cnnkit/config", c10::IValue(std::int64_t(7))),
            p + ": damaged checkpoint: record 'cnnkit/config' is a Int, expected a string");
  EXPECT_EQ(with("cnnkit/meta", c10::IValue(std::string("[1, 2]"))),
            p + ": damaged checkpoint: metadata is [1,2], not an object");
  EXPECT_EQ(with("cnnkit/meta", c10::IValue(std::string("{\"a\": 1e999}"))),
            p + "#meta:/a: number out of range (beyond the ±1.8e308 of a double) (damaged checkpoint)");
  EXPECT_EQ(with("cnnkit/meta", c10::IValue(std::string(200, '[') + std::string(200, ']'))),
            p + "#meta:1:65: JSON nested deeper than 64 levels (damaged checkpoint)");
}

TEST(CheckpointDamage, TheStoredConfigIsDataNotTheUsersConfig) {
  test::TempDir dir;
  Recipe r;
  r.records["cnnkit/config"] = std::string(R"({"input": {"channels": 1, "height": 6, "width": 6}, "layers": []})");
  const std::string p = dir.str("damaged.pt");
  try {
    read_checkpoint(write_archive(dir, r));
    FAIL();
  } catch (const CheckpointError& e) {  // exit 1, not the ConfigError's 2
    EXPECT_EQ(e.exit_code(), 1);
    EXPECT_EQ(std::string(e.what()).rfind(p + "#config:/layers: the layer list is empty; a model needs at least one layer", 0),
              0u)
        << e.what();
  }
  r.records["cnnkit/config"] = std::string("{\"input\": ");
  EXPECT_EQ(load_error(write_archive(dir, r)).rfind(p + "#config:1:11: malformed JSON: ", 0), 0u);
}

TEST(CheckpointDamage, WeightsOfAnotherDtypeOrNotFinite) {
  test::TempDir dir;
  const std::string p = dir.str("damaged.pt");
  Recipe r;
  r.damage_weights = [](auto& w) { w[0].second = w[0].second.to(torch::kFloat64); };
  EXPECT_EQ(load_error(write_archive(dir, r)),
            p + ": damaged checkpoint: 'conv2d.conv.weight' holds Double values, the model expects Float");
  r.damage_weights = [](auto& w) { w[1].second = w[1].second.to(torch::kInt64); };
  EXPECT_EQ(load_error(write_archive(dir, r)),
            p + ": damaged checkpoint: '" + "conv2d.bn.weight" + "' holds Long values, the model expects Float");
  r.damage_weights = [](auto& w) { w[0].second.view(-1)[3] = NAN; };
  EXPECT_EQ(load_error(write_archive(dir, r)),
            p + ": damaged checkpoint: 'conv2d.conv.weight' holds NaN or infinite values");
  r.damage_weights = [](auto& w) { w.back().second.fill_(INFINITY); };
  EXPECT_EQ(load_error(write_archive(dir, r)), p + ": damaged checkpoint: 'dense.linear.bias' holds NaN or infinite values");
  r.damage_weights = [](auto& w) { w.erase(w.begin()); };
  EXPECT_EQ(load_error(write_archive(dir, r)),
            p + ": checkpoint does not match the model: no weights for 'conv2d.conv.weight' (the config differs from "
                "the one it was trained with)");
}

// A weight set (training.ema's average) gets the checks of the model's own weights.
TEST(CheckpointDamage, WeightSetsAreCheckedLikeTheWeights) {
  test::TempDir dir;
  const std::string p = dir.str("damaged.pt");
  Recipe r;
  r.records["cnnkit/meta"] = std::string(R"({"weight_sets": {"ema": {"prefix": "ema/"}}})");
  r.ema_set = [](auto&) {};
  EXPECT_EQ(load_error(write_archive(dir, r), "ema"), "<no error>");
  r.ema_set = [](auto& w) { w[0].second.view(-1)[0] = NAN; };
  EXPECT_EQ(load_error(write_archive(dir, r), "ema"),
            p + ": damaged checkpoint: weight set 'ema': 'conv2d.conv.weight' holds NaN or infinite values");
  r.ema_set = [](auto& w) { w[0].second = w[0].second.to(torch::kFloat64); };
  EXPECT_EQ(load_error(write_archive(dir, r), "ema"),
            p + ": damaged checkpoint: weight set 'ema': 'conv2d.conv.weight' holds Double values, the model expects "
                "Float");
  r.ema_set = [](auto& w) { w.erase(w.begin()); };
  EXPECT_EQ(load_error(write_archive(dir, r), "ema"), p + ": weight set 'ema' has no tensor for 'conv2d.conv.weight'");
  r.ema_set = [](auto&) {};
  r.records["cnnkit/meta"] = std::string(R"({"weight_sets": {"ema": {"prefix": 3}}})");
  EXPECT_EQ(load_error(write_archive(dir, r), "ema"),
            p + ": damaged checkpoint: metadata of weight set 'ema' has no prefix string");
}

TEST(CheckpointDamage, PathsThatAreNotRegularFiles) {
  test::TempDir dir;
  ASSERT_EQ(::mkfifo(dir.str("fifo.pt").c_str(), 0600), 0);
  fs::create_symlink(dir.path() / "gone.pt", dir.path() / "dangling.pt");
  EXPECT_EQ(load_error(dir.str("fifo.pt")), dir.str("fifo.pt") + ": is a named pipe (FIFO), expected a checkpoint");
  EXPECT_EQ(load_error("/dev/zero"), "/dev/zero: is a character device, expected a checkpoint");
  EXPECT_EQ(load_error(dir.str("dangling.pt")), dir.str("dangling.pt") + ": cannot read checkpoint: dangling symbolic link to '" +
                                                    dir.str("gone.pt") + "' (its target does not exist)");
  EXPECT_EQ(load_error(dir.str("nope.pt")), dir.str("nope.pt") + ": checkpoint not found");
  // Through the run-directory lookup: a FIFO named best.pt is not taken for a checkpoint.
  fs::create_directory(dir.path() / "run");
  ASSERT_EQ(::mkfifo(dir.str("run/best.pt").c_str(), 0600), 0);
  EXPECT_THROW(resolve_checkpoint_path(dir.str("run"), "best.pt"), CheckpointError);
}
