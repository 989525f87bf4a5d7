#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cnnkit/config/config.h"
#include "cnnkit/core/error.h"
#include "cnnkit/model/checkpoint.h"
#include "cnnkit/model/model.h"
#include "support/cli.h"

using namespace cnnkit;

namespace {
Config tiny(int filters) {
  json raw = {{"input", {{"channels", 1}, {"height", 8}, {"width", 8}}},
              {"layers", json::array({{{"type", "conv2d"}, {"filters", filters}, {"kernel_size", 3}, {"batch_norm", true},
                                       {"activation", "relu"}},
                                      {{"type", "global_avgpool2d"}},
                                      {{"type", "dense"}, {"units", 3}}})}};
  auto src = std::make_shared<ConfigSource>();
  src->file = "tiny.json";
  return resolve_config(raw, src);
}
}  // namespace

TEST(Checkpoint, RoundTripGivesIdenticalPredictions) {
  test::TempDir dir;
  torch::manual_seed(3);
  Config c = tiny(4);
  Model a = build_model(c);
  // Move batch-norm statistics away from their initial values.
  a.net->train();
  a.net->forward(torch::randn({8, 1, 8, 8}));
  a.net->eval();
  CheckpointData data;
  data.config = c.resolved();
  data.meta = {{"class_names", {"a", "b", "c"}}};
  std::string path = dir.str("m.pt");
  save_checkpoint(path, a, data, nullptr);
  LoadedCheckpoint ck = read_checkpoint(path);
  EXPECT_EQ(ck.config.resolved(), c.resolved());
  EXPECT_EQ(ck.meta["class_names"][1], "b");
  Model b = build_model(ck.config);
  load_weights(ck, b);
  b.net->eval();
  auto x = torch::randn({5, 1, 8, 8});
  EXPECT_TRUE(torch::equal(a.net->forward(x), b.net->forward(x)));
  // No optimizer state was saved: resuming from it is refused clearly.
  torch::optim::SGD opt(b.net->parameters(), torch::optim::SGDOptions(0.1));
  EXPECT_THROW(ck.load_optimizer(opt), CheckpointError);
}

TEST(Checkpoint, MismatchedModelNamesTheParameterAndShapes) {
  test::TempDir dir;
  Config c = tiny(4);
  Model a = build_model(c);
  CheckpointData data;
  data.config = c.resolved();
  std::string path = dir.str("m.pt");
  save_checkpoint(path, a, data, nullptr);
  LoadedCheckpoint ck = read_checkpoint(path);
  Model other = build_model(tiny(6));
  try {
    load_weights(ck, other);
    FAIL() << "expected CheckpointError";
  } catch (const CheckpointError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("does not match the model"), std::string::npos) << msg;
    EXPECT_NE(msg.find("conv2d.conv.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[4, 1, 3, 3]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[6, 1, 3, 3]"), std::string::npos) << msg;
  }
}

TEST(Checkpoint, ForeignTorchArchiveIsNotACnnkitCheckpoint) {
  test::TempDir dir;
  std::string path = dir.str("tensor.pt");
  torch::serialize::OutputArchive archive;
  archive.write("weights", torch::ones({2}));
  archive.save_to(path);
  try {
    read_checkpoint(path);
    FAIL() << "expected CheckpointError";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("not a cnnkit checkpoint"), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, AtomicWriteKeepsThePreviousFileWhenWritingFails) {
  test::TempDir dir;
  Config c = tiny(4);
  Model a = build_model(c);
  CheckpointData data;
  data.config = c.resolved();
  std::string path = dir.str("m.pt");
  save_checkpoint(path, a, data, nullptr);
  auto before = test::read_file(path);
  // A folder that cannot hold the temporary file: the write fails, the old file stays.
  EXPECT_THROW(save_checkpoint(dir.str("missing-folder/m.pt"), a, data, nullptr), std::exception);
  EXPECT_EQ(test::read_file(path), before);
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
}
