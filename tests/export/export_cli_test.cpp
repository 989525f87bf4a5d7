// `cnnkit export` end to end: the manifest on stdout, a run directory as input, ONNX through
// python3 (checked with onnx.checker when python3-onnx is installed), ONNX without python3,
// and bad inputs: unknown format, a file that is not a checkpoint, an unwritable --out, an
// opset out of range. Errors are one line with the right exit code.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "cnnkit/core/sha256.h"
#include "cnnkit/eval/trained_model.h"
#include "cnnkit/export/python_tool.h"
#include "export/export_support.h"
#include "support/cli.h"

using namespace cnnkit;
using namespace cnnkit::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

class ExportCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>("cnnkit-export-cli");
    fs::create_directories(dir_->str("run"));
    checkpoint_ = dir_->str("run/best.pt");
    json doc = json::parse(read_file(config_path("mnist.json")));
    doc.erase("data");
    doc.erase("training");
    write_random_checkpoint(doc, checkpoint_, 11);
  }
  static void TearDownTestSuite() { dir_.reset(); }

  static int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

  static std::unique_ptr<TempDir> dir_;
  static std::string checkpoint_;
};

std::unique_ptr<TempDir> ExportCli::dir_;
std::string ExportCli::checkpoint_;

const std::string kNoPython = "CNNKIT_PYTHON=/nonexistent/python3";

}  // namespace

TEST_F(ExportCli, ManifestDescribesTheFilesAndTheModel) {
  const std::string out = dir_->str("out");
  auto r = run_cli(
      {"export", "--checkpoint", dir_->str("run"), "--out", out, "--format", "torchscript", "--format", "pytorch"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json m = json::parse(r.out);
  EXPECT_EQ(m["formats"], json({"torchscript", "pytorch"}));
  ASSERT_EQ(m["files"].size(), 3u);
  std::vector<std::string> names;
  for (const auto& f : m["files"]) {
    const std::string path = f["path"];
    names.push_back(fs::path(path).filename().string());
    EXPECT_EQ(f["bytes"].get<std::int64_t>(), static_cast<std::int64_t>(fs::file_size(path)));
    EXPECT_EQ(f["sha256"], sha256_file_hex(path));
    EXPECT_NE(r.err.find("wrote " + path), std::string::npos) << r.err;
  }
  EXPECT_EQ(names, std::vector<std::string>({"model.ts", "weights.pt", "model.py"}));
  EXPECT_EQ(m["input"]["shape"], json({"batch", 1, 28, 28}));
  EXPECT_EQ(m["input"]["layout"], "NCHW");
  EXPECT_EQ(m["input"]["dtype"], "float32");
  EXPECT_EQ(m["input"]["values"], "[0, 1]");
  EXPECT_EQ(m["output"]["shape"], json({"batch", 10}));
  TrainedModel t = load_trained_model(checkpoint_);
  EXPECT_EQ(m["normalization"]["mean"], json(t.normalization.mean));
  EXPECT_EQ(m["normalization"]["std"], json(t.normalization.std));
  EXPECT_TRUE(m["normalization"]["built_in"].get<bool>());
  EXPECT_EQ(m["class_names"], json(t.class_names));
  EXPECT_EQ(m["parameters"]["total"], 113162);  // configs/mnist.json's documented count
  EXPECT_EQ(m["cnnkit_version"], CNNKIT_VERSION);
  EXPECT_EQ(m["model"], "mnist");
  EXPECT_EQ(m["source"]["checkpoint"], checkpoint_);
  EXPECT_EQ(m["source"]["sha256"], sha256_file_hex(checkpoint_));
  const ProcessResult sum = run_process({"sha256sum", checkpoint_});
  if (sum.exit_code == 0) {
    EXPECT_EQ(m["source"]["sha256"], sum.out.substr(0, 64));
  }
  EXPECT_LE(m["check"]["torchscript_vs_model_max_difference"].get<double>(), 1e-5);
  EXPECT_FALSE(m.contains("onnx"));
}

TEST_F(ExportCli, OnnxFromTorchScriptWithPython) {
  if (python_with_torch().empty()) GTEST_SKIP() << "no python3 with torch (install python3-torch)";
  const std::string out = dir_->str("onnx");
  auto r = run_cli({"export", "--checkpoint", checkpoint_, "--out", out, "--format", "onnx", "--opset", "13"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json m = json::parse(r.out);
  EXPECT_EQ(m["formats"], json({"onnx"}));
  ASSERT_EQ(m["files"].size(), 1u);
  EXPECT_EQ(m["files"][0]["path"], out + "/model.onnx");
  EXPECT_GT(fs::file_size(out + "/model.onnx"), 400000u);  // 113,162 float weights
  EXPECT_EQ(m["onnx"]["opset"], 13);
  EXPECT_EQ(m["onnx"]["input"], "images");
  EXPECT_EQ(m["onnx"]["output"], "logits");
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(out)) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>({"model.onnx"}));  // the temporary model.ts is gone
  if (find_python_with("onnx").python.empty()) {
    EXPECT_EQ(m["onnx"]["checker"], "not run: python3-onnx is not installed");
  } else {
    EXPECT_EQ(m["onnx"]["checker"].get<std::string>().rfind("passed", 0), 0u) << m["onnx"];
    EXPECT_EQ(m["onnx"]["graph_inputs"], json({{"images", {"batch", 1, 28, 28}}}));
    EXPECT_EQ(m["onnx"]["graph_outputs"], json({{"logits", {"batch", 10}}}));
  }
}

TEST_F(ExportCli, AllFormatsWithoutPythonWriteTheOthersThenFailSayingWhatToInstall) {
  const std::string out = dir_->str("nopython");
  auto r = run_cli({"-q", "export", "--checkpoint", checkpoint_, "--out", out, "--format", "all"}, "", {kNoPython});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("cnnkit: error: onnx: ONNX export needs python3 with PyTorch (tried "
                       "$CNNKIT_PYTHON=/nonexistent/python3 (not found)); install Debian's python3-torch"),
            std::string::npos)
      << r.err;
  for (const char* f : {"model.ts", "weights.pt", "model.py"}) EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  EXPECT_FALSE(fs::exists(out + "/model.onnx"));
  EXPECT_EQ(json::parse(r.out)["formats"], json({"torchscript", "pytorch"}));
}

TEST_F(ExportCli, DefaultFormatsSkipOnnxWithoutPython) {
  const std::string out = dir_->str("default");
  auto r = run_cli({"export", "--checkpoint", checkpoint_, "--out", out}, "", {kNoPython});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json m = json::parse(r.out);
  EXPECT_EQ(m["formats"], json({"torchscript", "pytorch"}));
  ASSERT_EQ(m["skipped"].size(), 1u);
  EXPECT_EQ(m["skipped"][0]["format"], "onnx");
  EXPECT_NE(r.err.find("skipped onnx: ONNX export needs python3 with PyTorch"), std::string::npos) << r.err;
}

TEST_F(ExportCli, RawLeavesNormalisationOut) {
  auto r = run_cli({"export", "--checkpoint", checkpoint_, "--out", dir_->str("raw"), "--raw", "-f", "torchscript"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json m = json::parse(r.out);
  EXPECT_FALSE(m["normalization"]["built_in"].get<bool>());
  EXPECT_EQ(m["input"]["values"], "normalised: (x - mean) / std per channel, x in [0, 1]");
}

TEST_F(ExportCli, UnknownFormatIsAUsageError) {
  auto r = run_cli({"export", "--checkpoint", checkpoint_, "--out", dir_->str("x"), "--format", "torchscript,tflite"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "cnnkit: error: --format: unknown format 'tflite'; known: torchscript, pytorch, onnx, all\n");
  EXPECT_FALSE(fs::exists(dir_->str("x")));
}

TEST_F(ExportCli, UnknownWeightSetIsAUsageErrorListingTheCheckpointsSets) {
  auto r = run_cli({"export", "--checkpoint", checkpoint_, "--out", dir_->str("w"), "--weights", "ema"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--weights ema: " + checkpoint_ + " holds no weight set 'ema'; it holds raw"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(dir_->str("w")));
  auto raw = run_cli({"export", "--checkpoint", checkpoint_, "--out", dir_->str("w"), "--weights", "raw", "-f", "pytorch"});
  EXPECT_EQ(raw.exit_code, 0) << raw.err;
}

TEST_F(ExportCli, OpsetOutOfRangeIsAUsageError) {
  auto r = run_cli({"export", "--checkpoint", checkpoint_, "--out", dir_->str("y"), "--opset", "30"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "cnnkit: error: --opset: must be between 9 and 17 (PyTorch 1.13's ONNX exporter); got 30\n");
}

TEST_F(ExportCli, FileThatIsNotACheckpointFails) {
  const std::string text = dir_->write("notes.pt", "not a checkpoint");
  auto r = run_cli({"export", "--checkpoint", text, "--out", dir_->str("z")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_EQ(r.err.rfind("cnnkit: error: " + text + ": not a readable checkpoint", 0), 0u) << r.err;

  // An exported state dict is not a checkpoint either.
  const std::string out = dir_->str("out2");
  ASSERT_EQ(run_cli({"export", "--checkpoint", checkpoint_, "--out", out, "-f", "pytorch"}).exit_code, 0);
  r = run_cli({"export", "--checkpoint", out + "/weights.pt", "--out", dir_->str("z")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(out + "/weights.pt: not a"), std::string::npos) << r.err;
}

TEST_F(ExportCli, UnwritableOutFails) {
  const std::string file = dir_->write("plain-file", "x");
  auto r = run_cli({"export", "--checkpoint", checkpoint_, "--out", file + "/sub"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("cnnkit: error: " + file + "/sub: cannot create the output folder: ", 0), 0u) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  r = run_cli({"export", "--checkpoint", checkpoint_, "--out", file});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "cnnkit: error: " + file + ": --out exists and is not a folder\n");
}

TEST_F(ExportCli, MissingOptionsAreUsageErrors) {
  auto r = run_cli({"export", "--checkpoint", checkpoint_});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--out"), std::string::npos) << r.err;
}
