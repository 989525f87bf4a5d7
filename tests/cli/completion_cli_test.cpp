// `cnnkit completion bash|zsh`: the script loads in bash and completes commands, options,
// fixed option values and config names, all taken from the CLI definitions.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/cli.h"

using namespace cnnkit::test;
namespace fs = std::filesystem;

namespace {

bool have_bash() { return run_command({"bash", "-c", "true"}).exit_code == 0; }

// The script `cnnkit completion bash` prints, written once to a file.
const std::string& script_file() {
  static TempDir dir{"cnnkit-completion"};
  static const std::string path = dir.write("cnnkit.bash", run_cli({"completion", "bash"}).out);
  return path;
}

// What the completion offers for the words typed so far (the last one is being completed).
std::string complete(const std::vector<std::string>& typed, const std::string& cwd = "") {
  std::string words;
  for (const auto& w : typed) words += " '" + w + "'";
  const std::string script = "source '" + script_file() + "' || exit 9\n" + "COMP_WORDS=(" + words +
                             ")\nCOMP_CWORD=" + std::to_string(typed.size() - 1) +
                             "\n_cnnkit\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n";
  auto r = run_command({"bash", "-c", script}, "", {}, cwd);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  return r.out;
}

bool offers(const std::string& out, const std::string& word) { return ("\n" + out).find("\n" + word + "\n") != std::string::npos; }

class Completion : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_bash()) GTEST_SKIP() << "bash not found";
  }
};

}  // namespace

TEST_F(Completion, ScriptLoadsAndOffersEveryCommand) {
  auto load = run_command({"bash", "-c", "source <('" + std::string(CNNKIT_BINARY) + "' completion bash) && complete -p cnnkit"});
  EXPECT_EQ(load.exit_code, 0) << load.err;
  EXPECT_NE(load.out.find("-F _cnnkit cnnkit"), std::string::npos) << load.out;
  const std::string all = complete({"cnnkit", ""});
  for (const char* cmd : {"summary", "info", "train", "evaluate", "predict", "data", "bench", "featuremap", "runs",
                          "configs", "completion"})
    EXPECT_TRUE(offers(all, cmd)) << cmd << " missing from\n" << all;
  EXPECT_EQ(complete({"cnnkit", "tr"}), "train\n");
  EXPECT_TRUE(offers(complete({"cnnkit", "--"}), "--device"));
}

TEST_F(Completion, OptionsAndTheirValuesComeFromTheDefinitions) {
  EXPECT_EQ(complete({"cnnkit", "evaluate", "--sp"}), "--split\n");
  EXPECT_EQ(complete({"cnnkit", "evaluate", "--split", ""}), "test\nvalidation\ntrain\n");
  const std::string colormaps = complete({"cnnkit", "featuremap", "--colormap", ""});
  EXPECT_TRUE(offers(colormaps, "gray")) << colormaps;
  EXPECT_TRUE(offers(colormaps, "viridis")) << colormaps;
  EXPECT_EQ(complete({"cnnkit", "--device", "c"}), "cpu\ncuda\n");  // from "auto|cpu|cuda|cuda:N"
  EXPECT_EQ(complete({"cnnkit", "train", "--log-level", "d"}), "debug\n");  // global options after the command
  EXPECT_TRUE(offers(complete({"cnnkit", "train", "--"}), "--resume"));
  EXPECT_TRUE(offers(complete({"cnnkit", "train", "--"}), "--threads"));
  EXPECT_FALSE(offers(complete({"cnnkit", "info", "--"}), "--resume"));
}

TEST_F(Completion, ConfigNamesFromTheCurrentConfigsFolder) {
  TempDir dir;
  fs::create_directories(dir.path() / "configs");
  std::ofstream(dir.path() / "configs" / "tiny.json") << "{}";
  std::ofstream(dir.path() / "configs" / "tall.json") << "{}";
  const std::string out = complete({"cnnkit", "train", "--config", "t"}, dir.str());
  EXPECT_TRUE(offers(out, "tiny")) << out;
  EXPECT_TRUE(offers(out, "tall")) << out;
}

TEST_F(Completion, ZshScriptIsTheBashOneBehindBashcompinit) {
  auto bash = run_cli({"completion", "bash"});
  auto zsh = run_cli({"completion", "zsh"});
  ASSERT_EQ(zsh.exit_code, 0) << zsh.err;
  EXPECT_NE(zsh.out.find("bashcompinit"), std::string::npos);
  EXPECT_NE(zsh.out.find(bash.out), std::string::npos);
  auto bad = run_cli({"completion", "fish"});
  EXPECT_EQ(bad.exit_code, 2);
}
