// Weights in through the CLI: a model exported to PyTorch, trained a few steps in Python and
// saved as a plain dict, starts a cnnkit run with --init-weights; the run's checkpoint gives
// exactly Python's logits. And the errors a user meets on the way.
#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "cnnkit/eval/forward.h"
#include "cnnkit/eval/trained_model.h"
#include "export/export_support.h"
#include "support/cli.h"
#include "train/train_fixtures.h"

using namespace cnnkit;
using namespace cnnkit::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json tiny_layers() {
  return json::array(
      {{{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3}, {"batch_norm", true}, {"activation", "relu"}},
       {{"type", "maxpool2d"}, {"pool_size", 2}},
       {{"type", "flatten"}},
       {{"type", "dense"}, {"units", 10}}});
}

std::string mnist_config(const TempDir& dir) {
  json c = {
      {"name", "imported"},
      {"input", {{"channels", 1}, {"height", 28}, {"width", 28}}},
      {"data",
       {{"source", "mnist"}, {"root", (shared_data() / "mnist").string()}, {"limit_train", 200}, {"limit_test", 200}}},
      {"layers", tiny_layers()}};
  return dir.write("imported.json", c.dump(2));
}

std::map<std::string, torch::Tensor> read_tensor_dict(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto dict = torch::pickle_load(bytes).toGenericDict();
  std::map<std::string, torch::Tensor> out;
  for (const auto& kv : dict) out[kv.key().toStringRef()] = kv.value().toTensor();
  return out;
}

}  // namespace

TEST(InitWeightsCli, APythonTrainedStateDictStartsARunWithPythonsOutputs) {
  if (!have_mnist()) GTEST_SKIP() << "../shared/data/mnist not found";
  if (python_with_torch().empty()) GTEST_SKIP() << "no python3 with torch";
  TempDir dir;
  const std::string ckpt = dir.str("random.pt");
  write_random_checkpoint(model_config("imported", 1, 28, 28, tiny_layers()), ckpt, 5);
  auto ex = run_cli({"export", "--checkpoint", ckpt, "-f", "pytorch", "--out", dir.str("exported")});
  ASSERT_EQ(ex.exit_code, 0) << ex.err;
  fs::create_directories(dir.str("py"));
  auto py = run_python({source_dir() + "/tests/model/init_weights_fixtures.py", dir.str("exported"), dir.str("py")});
  ASSERT_EQ(py.exit_code, 0) << py.err;

  const std::string run = dir.str("run");
  auto r = run_cli({"train", "--config", mnist_config(dir), "--init-weights", dir.str("py/trained.pt"), "--set",
                    "training.epochs=0", "--run-dir", run});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("initial weights: " + dir.str("py/trained.pt") + " (PyTorch state dict): loaded"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(json::parse(read_file(run + "/config.json"))["training"]["init_weights"]["path"], dir.str("py/trained.pt"));

  TrainedModel t = load_trained_model(run);  // last.pt: the imported weights
  auto expected = read_tensor_dict(dir.str("py/trained_logits.pt"));
  torch::NoGradGuard no_grad;
  auto logits = forward_logits(t.model, expected.at("inputs"), false, false);
  EXPECT_TRUE(torch::allclose(logits, expected.at("logits"), 1e-5, 1e-5))
      << (logits - expected.at("logits")).abs().max().item<double>();
}

TEST(InitWeightsCli, MismatchesAndMisuseAreOneLineErrors) {
  if (!have_mnist()) GTEST_SKIP() << "../shared/data/mnist not found";
  TempDir dir;
  // A checkpoint of another architecture: strict loading names what does not fit.
  json other = tiny_layers();
  other[3]["units"] = 5;
  write_random_checkpoint(model_config("other", 1, 28, 28, other), dir.str("other.pt"), 1);
  const std::string cfg = mnist_config(dir);
  auto strict = run_cli({"train", "--config", cfg, "--init-weights", dir.str("other.pt"), "--set", "training.epochs=0",
                         "--run-dir", dir.str("a")});
  EXPECT_EQ(strict.exit_code, 1);
  EXPECT_EQ(std::count(strict.err.begin(), strict.err.end(), '\n'), 1) << strict.err;
  EXPECT_NE(strict.err.find("dense.linear.weight"), std::string::npos) << strict.err;
  EXPECT_NE(strict.err.find("--init-weights-partial"), std::string::npos) << strict.err;
  // Partial loading takes what fits and says what it skipped.
  auto partial = run_cli({"train", "--config", cfg, "--init-weights", dir.str("other.pt"), "--init-weights-partial",
                          "--set", "training.epochs=0", "--run-dir", dir.str("b")});
  EXPECT_EQ(partial.exit_code, 0) << partial.err;
  EXPECT_NE(partial.err.find("skipped"), std::string::npos) << partial.err;
  auto alone = run_cli({"train", "--config", cfg, "--init-weights-partial"});
  EXPECT_EQ(alone.exit_code, 2);
  EXPECT_NE(alone.err.find("--init-weights-partial needs --init-weights FILE"), std::string::npos) << alone.err;
  auto missing = run_cli({"train", "--config", cfg, "--init-weights", dir.str("nope.pt"), "--run-dir", dir.str("c")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nope.pt"), std::string::npos) << missing.err;
}

TEST(InitWeightsCli, BadInitWeightsSettingsAreUsageOrConfigErrors) {
  TempDir dir;
  const std::string cfg = mnist_config(dir);
  auto both = run_cli({"train", "--resume", dir.str("run"), "--init-weights", dir.str("w.pt")});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("--init-weights starts a new run; --resume continues one: drop one"), std::string::npos)
      << both.err;
  auto number = run_cli({"train", "--config", cfg, "--set", "training.init_weights=5", "--print-config"});
  EXPECT_EQ(number.exit_code, 2);
  EXPECT_NE(number.err.find("--set training.init_weights=5: "), std::string::npos) << number.err;
  EXPECT_NE(number.err.find("must be a file name or {\"path\": FILE, \"partial\": true|false}; got 5"),
            std::string::npos)
      << number.err;
  auto empty = run_cli({"train", "--config", cfg, "--set", "training.init_weights=\"\"", "--print-config"});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("must name a file"), std::string::npos) << empty.err;
}
