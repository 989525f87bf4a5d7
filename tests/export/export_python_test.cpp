// Exports loaded outside cnnkit give cnnkit's logits to 1e-5: every layer case (each registered
// layer type and the options that change what layers compute) and the seed configs, in
// Python (torch.jit.load of model.ts; model.py + weights.pt) and in C++ (torch::jit::load here,
// and docs/examples/classify.cpp, a program linked against LibTorch only). Checkpoints have
// random weights (save_checkpoint, no training); the MNIST seed model classifies real MNIST test
// images and is compared with `cnnkit predict` on them as PNG files. One python3 run checks
// the layer cases, one the seed configs.
#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "cnnkit/data/idx.h"
#include "cnnkit/eval/trained_model.h"
#include "cnnkit/export/exporter.h"
#include "cnnkit/io/image_io.h"
#include "export/export_support.h"
#include "support/cli.h"

using namespace cnnkit;
using namespace cnnkit::test;
namespace fs = std::filesystem;

namespace {

// Logits agree to 1e-5 relative to the largest logit's magnitude (absolute below 1): the
// exports normalise float images in [0, 1] as (x - mean) / std, cnnkit normalises bytes as
// x * (1 / (255 std)) - mean / std, and deep random-weight networks with batch norm (logits in
// the tens) carry that last-bit difference to about 3e-5 absolute.
constexpr double kTolerance = 1e-5;
double tolerance(double logit_scale) { return kTolerance * std::max(1.0, logit_scale); }

class ExportOutside : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { dir_ = std::make_unique<TempDir>("cnnkit-export"); }

  // Every layer case exported in-process, checked in one python3 run.
  static void prepare_layer_cases() {
    std::vector<std::string> cases;
    std::uint64_t seed = 1;
    for (const auto& c : layer_cases()) {
      const std::string ck = dir_->str(c.name + ".pt");
      write_random_checkpoint(c.doc, ck, seed++);
      TrainedModel trained = load_trained_model(ck);
      ExportRequest request;
      request.out_dir = dir_->str(c.name);
      request.formats = {"torchscript", "pytorch"};
      ExportResult r = export_model(trained, request);
      if (!r.errors.empty()) failures_.push_back(c.name + ": " + r.errors.front());
      save_expected(c.name, ck, random_images(trained.model.input, 3, seed++), false);
      cases.push_back(dir_->str(c.name));
    }
    check_in_python(cases);
  }

  // The seed configs and the residual network exported by the CLI (and once more with --raw),
  // checked in one python3 run.
  static void prepare_seed_cases() {
    std::vector<std::string> cases;
    std::uint64_t seed = 1000;
    for (const auto& c : seed_cases()) {
      const std::string ck = dir_->str(c.name + ".pt");
      write_random_checkpoint(c.doc, ck, seed++);
      auto r = run_cli({"export", "--checkpoint", ck, "--out", dir_->str(c.name), "--format", "torchscript,pytorch"});
      if (r.exit_code != 0)
        failures_.push_back(c.name + ": cnnkit export exit " + std::to_string(r.exit_code) + ": " + r.err);
      torch::Tensor images = c.name == "seed_mnist" ? mnist_images(8) : torch::Tensor();
      if (!images.defined()) images = random_images(load_trained_model(ck).model.input, 4, seed++);
      save_expected(c.name, ck, images, c.name == "seed_mnist");
      cases.push_back(dir_->str(c.name));
      seed_checkpoints_[c.name] = ck;
    }
    // --raw: model.ts takes the normalised input.
    auto r = run_cli({"export", "--checkpoint", seed_checkpoints_["residual_net"], "--out", dir_->str("raw"), "--raw",
                      "--format", "torchscript"});
    if (r.exit_code != 0) failures_.push_back("raw: cnnkit export exit " + std::to_string(r.exit_code) + ": " + r.err);
    save_expected("raw", seed_checkpoints_["residual_net"],
                  random_images(load_trained_model(seed_checkpoints_["residual_net"]).model.input, 2, 99), false, true);
    cases.push_back(dir_->str("raw"));

    check_in_python(cases);
  }

  static void check_in_python(const std::vector<std::string>& cases) {
    if (python_with_torch().empty()) return;
    std::vector<std::string> args{source_dir() + "/tests/export/check_exports.py"};
    args.insert(args.end(), cases.begin(), cases.end());
    const ProcessResult py = run_python(args);
    python_ran_ = true;
    python_err_ = py.err;
    for (const auto& line : json_lines(py.out)) results_[line.at("case").get<std::string>()] = line;
  }
  static void TearDownTestSuite() { dir_.reset(); }

  // cnnkit's logits (and, with `predict`, `cnnkit predict`'s probabilities on the images as PNG
  // files) into CASE/expected.pt, and the images for the C++ example into CASE/images.pt.
  static void save_expected(const std::string& name, const std::string& ck, const torch::Tensor& images_u8,
                            bool predict, bool raw = false) {
    torch::Tensor normalized;
    torch::Tensor logits = cnnkit_logits(ck, images_u8, &normalized);
    torch::Tensor images = images_u8.to(torch::kFloat) / 255.0;
    std::vector<std::pair<std::string, torch::Tensor>> tensors{{"images", images}, {"logits", logits}};
    if (raw) tensors.emplace_back("inputs", normalized);
    if (predict) tensors.emplace_back("probabilities", predict_probabilities(name, ck, images_u8));
    save_tensor_dict(dir_->str(name) + "/expected.pt", tensors);
    const std::vector<char> bytes = torch::pickle_save(images);
    std::ofstream(dir_->str(name) + "/images.pt", std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  static torch::Tensor predict_probabilities(const std::string& name, const std::string& ck, const torch::Tensor& u8) {
    std::vector<std::string> args{"predict", "--checkpoint", ck, "-k", "1000"};
    for (std::int64_t i = 0; i < u8.size(0); ++i) {
      const std::string png = dir_->str(name + "_" + std::to_string(i) + ".png");
      write_png(png, u8[i]);
      args.push_back(png);
    }
    auto r = run_cli(args);
    if (r.exit_code != 0)
      failures_.push_back(name + ": cnnkit predict exit " + std::to_string(r.exit_code) + ": " + r.err);
    const auto lines = json_lines(r.out);
    torch::Tensor probs = torch::zeros({u8.size(0), 10});
    for (std::size_t i = 0; i < lines.size() && i < static_cast<std::size_t>(u8.size(0)); ++i) {
      for (const auto& t : lines[i].at("top_k"))
        probs[static_cast<std::int64_t>(i)][t.at("class").get<std::int64_t>()] = t.at("probability").get<double>();
    }
    return probs;
  }

  // The first n MNIST test images (random ones when ../shared/data is absent).
  static torch::Tensor mnist_images(std::int64_t n) {
    const fs::path file = shared_data() / "mnist" / "t10k-images-idx3-ubyte.gz";
    if (!fs::exists(file)) return random_images(Shape::spatial(1, 28, 28), n, 5);
    return read_idx_images(file.string()).slice(0, 0, n).contiguous();
  }

  void expect_matches(const std::string& name, bool pytorch = true) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(results_.count(name)) << "no result from check_exports.py; its stderr:\n" << python_err_;
    const auto& r = results_.at(name);
    ASSERT_FALSE(r.contains("error")) << r.dump();
    const double tol = tolerance(r.at("logit_scale").get<double>());
    EXPECT_LE(r.at("ts_max_diff").get<double>(), tol) << r.dump();
    EXPECT_LE(r.at("ts_train_mode_max_diff").get<double>(), tol) << r.dump();
    if (pytorch) {
      EXPECT_LE(r.at("py_max_diff").get<double>(), tol) << r.dump();
      EXPECT_TRUE(r.at("keys_equal").get<bool>()) << r.dump();
      EXPECT_TRUE(r.at("weights_is_plain_dict").get<bool>()) << r.dump();
      EXPECT_EQ(r.at("py_class_names"), r.at("ts_class_names"));
    }
  }

  static void report_failures() {
    for (const auto& f : failures_) ADD_FAILURE() << f;
  }
  void require_python() {
    if (!python_ran_) GTEST_SKIP() << "no python3 with torch (install python3-torch)";
  }

  static void check_torch_jit_load_in_cpp();
  static void check_example_program();

  static std::unique_ptr<TempDir> dir_;
  static std::map<std::string, nlohmann::json> results_;
  static std::map<std::string, std::string> seed_checkpoints_;
  static std::vector<std::string> failures_;
  static bool python_ran_;
  static std::string python_err_;
};

std::unique_ptr<TempDir> ExportOutside::dir_;
std::map<std::string, nlohmann::json> ExportOutside::results_;
std::map<std::string, std::string> ExportOutside::seed_checkpoints_;
std::vector<std::string> ExportOutside::failures_;
bool ExportOutside::python_ran_ = false;
std::string ExportOutside::python_err_;

}  // namespace

// Under ctest every test runs in its own process, so the work is done by two tests, each
// preparing only its own exports.
TEST_F(ExportOutside, EveryLayerCaseMatchesInPython) {
  prepare_layer_cases();
  report_failures();
  require_python();
  for (const auto& c : layer_cases()) {
    expect_matches(c.name);
    if (results_.count(c.name)) {
      EXPECT_EQ(results_[c.name].at("ts_class_names"), nlohmann::json(class_names_for(5)));
    }
  }
}

TEST_F(ExportOutside, SeedConfigsMatchCnnkitInCppAndPython) {
  prepare_seed_cases();
  report_failures();
  check_torch_jit_load_in_cpp();
  check_example_program();
  require_python();
  for (const auto& c : seed_cases()) expect_matches(c.name);
  const auto& mnist = results_["seed_mnist"];
  EXPECT_EQ(mnist.at("py_input_shape"), nlohmann::json({1, 28, 28}));
  EXPECT_TRUE(mnist.at("ts_normalizes_input").get<bool>());
  // softmax(model.ts) equals `cnnkit predict` on the real MNIST images as PNG files.
  ASSERT_TRUE(results_.count("seed_mnist"));
  EXPECT_LE(results_["seed_mnist"].at("predict_max_diff").get<double>(), kTolerance) << results_["seed_mnist"].dump();
  // --raw: model.ts takes the normalised input.
  expect_matches("raw", /*pytorch=*/false);
  EXPECT_FALSE(results_["raw"].at("ts_normalizes_input").get<bool>());
}

void ExportOutside::check_torch_jit_load_in_cpp() {
  torch::NoGradGuard no_grad;
  for (const auto& c : seed_cases()) {
    SCOPED_TRACE(c.name);
    torch::jit::Module m = torch::jit::load(dir_->str(c.name) + "/model.ts");
    std::ifstream in(dir_->str(c.name) + "/expected.pt", std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto expected = torch::pickle_load(bytes).toGenericDict();
    torch::Tensor got = m.forward({expected.at("images").toTensor()}).toTensor();
    const torch::Tensor logits = expected.at("logits").toTensor();
    EXPECT_LE((got - logits).abs().max().item<double>(), tolerance(logits.abs().max().item<double>()));
  }
}

// docs/examples/classify.cpp, linked against LibTorch only.
void ExportOutside::check_example_program() {
  for (const std::string name : {"seed_mnist", "residual_net"}) {
    SCOPED_TRACE(name);
    const ProcessResult r =
        run_process({CNNKIT_CLASSIFY_EXAMPLE, dir_->str(name) + "/model.ts", dir_->str(name) + "/images.pt"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::ifstream in(dir_->str(name) + "/expected.pt", std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    torch::Tensor expected = torch::pickle_load(bytes).toGenericDict().at("logits").toTensor();
    std::istringstream lines(r.out);
    std::string line;
    std::int64_t row = 0;
    while (std::getline(lines, line)) {
      std::istringstream fields(line);
      std::string label;
      std::getline(fields, label, '\t');
      const auto best = expected[row].argmax().item<std::int64_t>();
      EXPECT_EQ(label, class_names_for(expected.size(1))[static_cast<std::size_t>(best)]);
      double v = 0;
      for (std::int64_t j = 0; j < expected.size(1); ++j) {
        fields >> v;
        EXPECT_NEAR(v, expected[row][j].item<double>(), tolerance(expected.abs().max().item<double>()));
      }
      ++row;
    }
    EXPECT_EQ(row, expected.size(0));
  }
}
