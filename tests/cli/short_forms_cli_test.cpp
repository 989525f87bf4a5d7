// The short commands work as written: bare config names, the latest run as the default model,
// positional forms, runs usable from any working directory, a misspelt command, `cnnkit runs`
// and `cnnkit configs` — on one tiny training run of a generated MNIST-format dataset.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cnnkit/train/run_dir.h"
#include "data/fixtures.h"
#include "support/cli.h"

using namespace cnnkit::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json last_json_line(const std::string& out) {
  std::istringstream in(out);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return json::parse(last);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class ShortForms : public ::testing::Test {
 protected:
  // project/configs/tiny.json (data.root "../data/mnist": relative to the config's folder),
  // project/data/mnist, and one epoch trained from project/ with the bare name "tiny".
  static void SetUpTestSuite() {
    tmp_ = new TempDir("cnnkit-short");
    project_ = tmp_->path() / "project";
    write_mnist(project_ / "data" / "mnist", 200, 50, /*gz=*/false);
    json config = {
        {"name", "tiny"},
        {"description", "A tiny fixture model. Not in the one-line listing."},
        {"input", {{"channels", 1}, {"height", 28}, {"width", 28}}},
        {"data", {{"source", "mnist"}, {"root", "../data/mnist"}}},
        {"layers", json::array({{{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3}, {"activation", "relu"}},
                                {{"type", "maxpool2d"}, {"pool_size", 2}},
                                {{"type", "flatten"}},
                                {{"type", "dense"}, {"units", 10}}})},
        {"training", {{"epochs", 1}, {"batch_size", 50}, {"seed", 1}}}};
    fs::create_directories(project_ / "configs");
    std::ofstream(project_ / "configs" / "tiny.json") << config.dump(2);
    fs::create_directories(tmp_->path() / "elsewhere");
    auto r = run_cli_in(project_.string(), {"train", "--config", "tiny", "--json", "--threads", "1"});
    train_ok_ = r.exit_code == 0;
    train_log_ = r.err;
    if (train_ok_) run_ = last_json_line(r.out)["run_dir"].get<std::string>();
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(train_ok_) << train_log_; }

  static CliResult in_project(const std::vector<std::string>& args) { return run_cli_in(project_.string(), args); }
  static CliResult elsewhere(const std::vector<std::string>& args) {
    return run_cli_in((tmp_->path() / "elsewhere").string(), args);
  }
  static std::string run_abs() { return (project_ / run_).string(); }

  static TempDir* tmp_;
  static fs::path project_;
  static std::string run_;  // runs/tiny-<time>, relative to project/
  static bool train_ok_;
  static std::string train_log_;
};

TempDir* ShortForms::tmp_ = nullptr;
fs::path ShortForms::project_;
std::string ShortForms::run_;
bool ShortForms::train_ok_ = false;
std::string ShortForms::train_log_;

}  // namespace

TEST_F(ShortForms, TrainKeepsLatestAndTheRunStatus) {
  EXPECT_EQ(run_.rfind("runs/tiny-", 0), 0u) << run_;
  EXPECT_EQ(fs::read_symlink(project_ / "runs" / "latest"), fs::path(run_).filename());
  const json status = json::parse(read_file(run_abs() + "/status.json"));
  EXPECT_EQ(status["status"], "finished");
  EXPECT_TRUE(fs::exists(run_abs() + "/.lock"));
  EXPECT_FALSE(cnnkit::RunDirLock::held(run_abs())) << "released when train ended";
}

TEST_F(ShortForms, CommandsWithoutACheckpointUseTheLatestRun) {
  auto ev = in_project({"evaluate", "--json"});
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  EXPECT_TRUE(contains(ev.err, "using the latest run: " + run_)) << ev.err;
  EXPECT_EQ(json::parse(ev.out)["count"], 50);
  auto fm = in_project({"featuremap", "--layer", "0", "--out", tmp_->str("fm-latest")});
  ASSERT_EQ(fm.exit_code, 0) << fm.err;
  EXPECT_TRUE(contains(fm.err, "using the latest run: " + run_)) << fm.err;
  auto pr = in_project({"predict"});  // no images on stdin: loads the model and prints nothing
  EXPECT_EQ(pr.exit_code, 0) << pr.err;
  EXPECT_TRUE(contains(pr.err, "using the latest run: " + run_)) << pr.err;
  auto ex = in_project({"export", "--format", "torchscript", "--out", tmp_->str("export-latest")});
  ASSERT_EQ(ex.exit_code, 0) << ex.err;
  EXPECT_TRUE(contains(ex.err, "using the latest run: " + run_)) << ex.err;
  EXPECT_TRUE(fs::exists(tmp_->path() / "export-latest" / "model.ts"));
}

TEST_F(ShortForms, NoRunToDefaultToIsAClearError) {
  for (const char* cmd : {"evaluate", "predict", "featuremap", "export"}) {
    auto r = elsewhere(std::string(cmd) == "export" ? std::vector<std::string>{cmd, "--out", tmp_->str("x")}
                                                    : std::vector<std::string>{cmd});
    EXPECT_EQ(r.exit_code, 2) << cmd;
    EXPECT_EQ(r.err,
              "cnnkit: error: no --checkpoint given and no run found in ./runs (looked for runs/latest and run "
              "directories holding best.pt or last.pt); give --checkpoint FILE|RUN_DIR, or train one first: cnnkit "
              "train --config NAME\n")
        << cmd;
  }
}

TEST_F(ShortForms, PositionalForms) {
  auto ev = in_project({"evaluate", run_, "--json"});
  ASSERT_EQ(ev.exit_code, 0) << ev.err;
  EXPECT_EQ(json::parse(ev.out)["checkpoint"], run_ + "/best.pt");
  EXPECT_FALSE(contains(ev.err, "using the latest run"));

  auto fm = in_project({"featuremap", run_, "--layer", "0", "--out", tmp_->str("fm")});
  ASSERT_EQ(fm.exit_code, 0) << fm.err;
  EXPECT_EQ(json::parse(fm.out)["checkpoint"], run_ + "/best.pt");

  auto ex = in_project({"export", run_, "--format", "torchscript", "--out", tmp_->str("export-positional")});
  ASSERT_EQ(ex.exit_code, 0) << ex.err;
  EXPECT_FALSE(contains(ex.err, "using the latest run"));
  EXPECT_TRUE(fs::exists(tmp_->path() / "export-positional" / "model.ts"));

  std::set<json> params;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"summary", "configs/tiny.json"}, {"summary", "tiny"}, {"summary", "--config", "tiny"},
        {"summary", run_}, {"summary", run_ + "/last.pt"}, {"summary", "--checkpoint", run_}}) {
    auto args_json = args;
    args_json.push_back("--json");
    auto r = in_project(args_json);
    ASSERT_EQ(r.exit_code, 0) << args[1] << ": " << r.err;
    params.insert(json::parse(r.out)["total_params"]);
  }
  EXPECT_EQ(params.size(), 1u) << "every form names the same model";
  auto two = in_project({"summary", "tiny", "--config", "tiny"});
  EXPECT_EQ(two.exit_code, 2);
  EXPECT_TRUE(contains(two.err, "summary takes one model")) << two.err;
}

TEST_F(ShortForms, ARunEvaluatesFromAnyWorkingDirectory) {
  auto r = elsewhere({"evaluate", run_abs(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["count"], 50);

  // The data moved away: the error says where it looked and names --data-root.
  const fs::path data = project_ / "data", moved = project_ / "data-moved";
  fs::rename(data, moved);
  auto gone = elsewhere({"evaluate", run_abs()});
  auto again = elsewhere({"evaluate", run_abs(), "--data-root", (moved / "mnist").string(), "--json"});
  fs::rename(moved, data);
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_TRUE(contains(gone.err, "cnnkit: error: ../data/mnist: data folder not found (root from config data.root; "
                                 "looked in " + (data / "mnist").string() + ", "))
      << gone.err;
  EXPECT_TRUE(contains(gone.err, "give the data's folder with --data-root DIR")) << gone.err;
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(json::parse(again.out)["count"], 50);
}

TEST_F(ShortForms, AMisspeltCommandGetsASuggestion) {
  auto r = elsewhere({"trian", "--config", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("cnnkit: error: unknown command 'trian' (did you mean 'train'?); commands: summary, ", 0), 0u)
      << r.err;
  auto g = elsewhere({"--threads", "1", "sumary"});
  EXPECT_EQ(g.exit_code, 2);
  EXPECT_TRUE(contains(g.err, "unknown command 'sumary' (did you mean 'summary'?)")) << g.err;
  auto far = elsewhere({"xyzzy"});
  EXPECT_EQ(far.exit_code, 2);
  EXPECT_EQ(far.err.rfind("cnnkit: error: unknown command 'xyzzy'; commands: ", 0), 0u) << far.err;
  EXPECT_EQ(elsewhere({"--version"}).exit_code, 0);
  // Flags take no value: the word after -q is the command.
  auto quiet = in_project({"-q", "--threads=1", "summary", "tiny"});
  EXPECT_EQ(quiet.exit_code, 0) << quiet.err;
}

TEST_F(ShortForms, AConfigNameThatIsNowhereListsWhereItLooked) {
  auto r = in_project({"summary", "--config", "nope"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("cnnkit: error: nope: config file not found; looked for nope, nope.json, configs/nope, "
                        "configs/nope.json, ",
                        0),
            0u)
      << r.err;
  auto p = in_project({"summary", "nope"});
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_TRUE(contains(p.err, "nope: config file not found")) << p.err;
}

TEST_F(ShortForms, ConfigsListsNamesWithTheirDescription) {
  auto r = in_project({"configs"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("./configs\n  tiny  A tiny fixture model.\n", 0), 0u) << r.out;
  auto j = in_project({"configs", "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const json list = json::parse(j.out);
  ASSERT_GE(list.size(), 1u);
  EXPECT_EQ(list[0]["name"], "tiny");
  EXPECT_EQ(list[0]["description"], "A tiny fixture model. Not in the one-line listing.");
  // Nothing to list (no ./configs; the build tree has no installed configs): where it looked.
  auto none = elsewhere({"configs"});
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(none.out.rfind("no configs found (looked in ./configs, ", 0), 0u) << none.out;
}

TEST_F(ShortForms, RunsShowsTheFinishedRun) {
  auto r = in_project({"runs"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string name = fs::path(run_).filename().string();
  EXPECT_TRUE(contains(r.out, name)) << r.out;
  EXPECT_TRUE(contains(r.out, "finished")) << r.out;
  auto j = in_project({"runs", "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const json rows = json::parse(j.out);
  ASSERT_EQ(rows.size(), 1u) << "the latest link is not a second run";
  EXPECT_EQ(rows[0]["status"], "finished");
  EXPECT_EQ(rows[0]["epochs_done"], 1);
  EXPECT_EQ(rows[0]["config"], "tiny");
  EXPECT_TRUE(rows[0]["test_accuracy"].is_number());
  EXPECT_TRUE(rows[0]["images_per_second"].is_number());
}
