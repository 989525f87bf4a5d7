// What a person sees at the terminal: one-line errors, colour rules, ASCII fallback, predict's
// table, plurals, a finished run's resume, the pictures train and evaluate write.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

#include "cnnkit/io/image_io.h"
#include "support/cli.h"
#include "support/tty.h"

using namespace cnnkit::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

bool have_mnist() { return fs::exists(shared_data() / "mnist" / "train-images-idx3-ubyte.gz"); }

// One small trained run shared by the tests below: 1 epoch on 300 MNIST images.
class TrainedRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!have_mnist()) return;
    dir_ = new TempDir("ux");
    json c = {{"name", "tiny"},
              {"input", {{"channels", 1}, {"height", 28}, {"width", 28}}},
              {"data",
               {{"source", "mnist"}, {"root", (shared_data() / "mnist").string()}, {"limit_train", 300}, {"limit_test", 100}}},
              {"layers", json::array({{{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3}, {"activation", "relu"}},
                                      {{"type", "maxpool2d"}, {"pool_size", 2}},
                                      {{"type", "flatten"}},
                                      {{"type", "dense"}, {"units", 10}}})},
              {"training", {{"epochs", 1}, {"batch_size", 32}}}};
    config_ = dir_->write("tiny.json", c.dump());
    train_ = run_cli({"train", "--config", config_, "--run-dir", dir_->str("run"), "--threads", "2"});
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (!have_mnist()) GTEST_SKIP() << "../shared/data/mnist not found";
    ASSERT_EQ(train_.exit_code, 0) << train_.err;
  }
  static std::string run_dir() { return dir_->str("run"); }
  static TempDir* dir_;
  static std::string config_;
  static CliResult train_;
};
TempDir* TrainedRun::dir_ = nullptr;
std::string TrainedRun::config_;
CliResult TrainedRun::train_;

}  // namespace

TEST(UxCli, ParserErrorsAreOneLineWithThePrefix) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--bogus"}, {}, {"summary", "--config"}, {"summary", "--frobnicate", "x"}, {"train", "--threads", "many"}}) {
    auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(lines(r.err), 1) << r.err;
    EXPECT_EQ(r.err.rfind("cnnkit: error: ", 0), 0u) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  // CLI11's wording made plain, the option named.
  EXPECT_NE(run_cli({"train", "--threads", "many"}).err.find("--threads many: expected a number"), std::string::npos);
  EXPECT_NE(run_cli({"summary", "--config"}).err.find("--config needs a value"), std::string::npos);
  EXPECT_NE(run_cli({"predict", "--checkpoint", "x", "-k", "0"}).err.find("--top-k 0: expected a positive number"),
            std::string::npos);
  auto r = run_cli({"summary", "--frobnicate", "x"});
  EXPECT_NE(r.err.find("(see cnnkit summary --help)"), std::string::npos) << r.err;
  EXPECT_EQ(run_cli({"--help"}).exit_code, 0);
  EXPECT_EQ(run_cli({"--version"}).exit_code, 0);
}

TEST(UxCli, ColourFollowsTheOptionAndNoColor) {
  const std::vector<std::string> bad = {"summary", "--config", "/no/such/config.json"};
  auto plain = run_cli(bad);
  EXPECT_EQ(plain.err.find("\033["), std::string::npos) << "a pipe gets no colour";
  auto always = run_cli({"--color", "always", "summary", "--config", "/no/such/config.json"});
  EXPECT_NE(always.err.find("\033[1;31merror:\033[0m"), std::string::npos) << always.err;
  // On a terminal colour is the default, and NO_COLOR (or --color never) turns it off.
  auto tty = run_cli_tty(bad, {}, /*stderr_too=*/true);
  EXPECT_NE(tty.out.find("\033[1;31m"), std::string::npos) << tty.out;
  auto no_color = run_cli_tty(bad, {"NO_COLOR=1"}, true);
  EXPECT_EQ(no_color.out.find("\033["), std::string::npos) << no_color.out;
  auto never = run_cli_tty({"--color", "never", "summary", "--config", "/no/such/config.json"}, {}, true);
  EXPECT_EQ(never.out.find("\033["), std::string::npos) << never.out;
  auto wrong = run_cli({"--color", "sometimes", "info"});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_NE(wrong.err.find("--color sometimes: expected auto, always or never"), std::string::npos) << wrong.err;
}

TEST(UxCli, AsciiFallbackOutsideUtf8Locales) {
  const std::vector<std::string> args = {"summary", "--config", config_path("mnist.json")};
  auto utf8 = run_cli(args);
  ASSERT_EQ(utf8.exit_code, 0) << utf8.err;
  EXPECT_NE(utf8.out.find("28×28×1"), std::string::npos);
  EXPECT_NE(utf8.out.find("━"), std::string::npos);
  auto ascii = run_cli(args, "", {"LC_ALL=C"});
  ASSERT_EQ(ascii.exit_code, 0) << ascii.err;
  EXPECT_NE(ascii.out.find("28x28x1 (HxWxC)"), std::string::npos) << ascii.out;
  for (unsigned char c : ascii.out) ASSERT_LT(c, 0x80) << ascii.out;
  auto lang = run_cli(args, "", {"LC_ALL=", "LC_CTYPE=", "LANG=en_US.ISO-8859-1"});
  EXPECT_EQ(lang.out.find("━"), std::string::npos);
}

TEST(UxCli, SummaryJsonHoldsTheResolvedConfig) {
  auto r = run_cli({"summary", "--config", config_path("mnist.json"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["config"]["training"]["batch_size"], 128);
  EXPECT_TRUE(j["config"]["data"].contains("split_seed"));  // a default filled in
}

TEST_F(TrainedRun, TrainWritesStepsCurvesAndConfusionAndSaysOneEpoch) {
  EXPECT_NE(train_.out.find("after 1 epoch\n"), std::string::npos) << train_.out;
  EXPECT_NE(train_.err.find("1 epoch of 10 steps"), std::string::npos) << train_.err;
  for (const char* f : {"steps.csv", "curves.png", "confusion.png", "final.json"})
    EXPECT_TRUE(fs::exists(fs::path(run_dir()) / f)) << f;
  const std::string steps = read_file(run_dir() + "/steps.csv");
  EXPECT_EQ(lines(steps), 1 + 10) << steps;  // 300 images in batches of 32: 10 steps, one row each
  if (cnnkit::image_io_available()) {
    auto confusion = cnnkit::read_image(run_dir() + "/confusion.png", 3);
    EXPECT_GT(confusion.size(1), 300);
    EXPECT_LT(confusion.size(1), 1000);
  }
}

TEST_F(TrainedRun, ResumingAFinishedRunSaysSo) {
  auto r = run_cli({"train", "--resume", run_dir()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("is finished: 1 epoch of 1 done"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--set training.epochs=11"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST_F(TrainedRun, EvaluateSaysWhereItWroteTheConfusionImage) {
  const std::string png = dir_->str("cm.png");
  auto r = run_cli({"evaluate", "--checkpoint", run_dir(), "--confusion-png", png, "--normalize"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("confusion-matrix image (row-normalised) written to " + png), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("% of the true class"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(png));
  auto j = run_cli({"evaluate", "--checkpoint", run_dir(), "--confusion-png", png, "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  EXPECT_EQ(json::parse(j.out)["confusion_png"], png);
}

TEST_F(TrainedRun, PredictPrintsATableOnATerminalAndJsonLinesOtherwise) {
  if (!cnnkit::image_io_available()) GTEST_SKIP() << "built without OpenCV";
  const std::string img = dir_->str("digit.png");
  cnnkit::write_png(img, torch::zeros({1, 28, 28}, torch::kUInt8));
  auto piped = run_cli({"predict", "--checkpoint", run_dir(), img});
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(json::parse(piped.out)["path"], img);
  auto table = run_cli_tty({"predict", "--checkpoint", run_dir(), img, "-k", "3"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  std::istringstream in(table.out);
  std::string header, row;
  std::getline(in, header);
  std::getline(in, row);
  EXPECT_EQ(header.rfind("image", 0), 0u) << table.out;
  EXPECT_NE(header.find("class"), std::string::npos);
  EXPECT_NE(header.find("probability"), std::string::npos);
  EXPECT_EQ(row.rfind(img, 0), 0u) << table.out;
  EXPECT_EQ(header.find("class"), row.find_first_not_of(' ', img.size()) - 0) << table.out;  // aligned
  auto forced = run_cli_tty({"predict", "--checkpoint", run_dir(), img, "--json"});
  EXPECT_EQ(json::parse(forced.out)["path"], img);
  // A folder given as an image.
  auto dir = run_cli({"predict", "--checkpoint", run_dir(), dir_->str()});
  EXPECT_EQ(dir.exit_code, 1);
  EXPECT_NE(json::parse(dir.out)["error"].get<std::string>().find("is a directory"), std::string::npos) << dir.out;
  EXPECT_NE(dir.err.find("1 image could not be classified"), std::string::npos) << dir.err;
}
