// Hostile and odd inputs through the real binary (issue 12): files that are not regular files,
// absurd sizes, nesting, numbers beyond a double, text that is not UTF-8. Each ends quickly with
// the documented exit code (2 for the user's config, 1 for data and checkpoints), nothing on
// stdout, and ONE line on stderr naming the file and the place.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include "support/cli.h"

using cnnkit::test::CliResult;
using cnnkit::test::run_cli;
using cnnkit::test::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string kModel =
    R"({"input": {"channels": 1, "height": 8, "width": 8}, "layers": [{"type": "flatten"}, {"type": "dense", "units": 3}]})";

void expect_one_line(const CliResult& r, int code, const std::string& start) {
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("cnnkit: error: " + start, 0), 0u) << "expected to start with " << start << "\n" << r.err;
  for (const char* noise : {"Exception raised from", "frame #", "terminate called", "what():", "[json.exception",
                            "DefaultCPUAllocator", "map::at"})
    EXPECT_EQ(r.err.find(noise), std::string::npos) << r.err;
}

}  // namespace

TEST(HostileInputCli, ConfigsThatAreNotRegularFiles) {
  TempDir dir("hostile");
  ASSERT_EQ(::mkfifo(dir.str("fifo.json").c_str(), 0600), 0);
  fs::create_symlink(dir.path() / "b.json", dir.path() / "a.json");
  fs::create_symlink(dir.path() / "a.json", dir.path() / "b.json");
  expect_one_line(run_cli({"summary", "--config", dir.str("fifo.json")}), 2,
                  dir.str("fifo.json") + ": is a named pipe (FIFO), expected a config file");
  expect_one_line(run_cli({"summary", "--config", "/dev/zero"}), 2, "/dev/zero: is a character device, expected a config file");
  expect_one_line(run_cli({"summary", "--config", dir.str("a.json")}), 2,
                  dir.str("a.json") + ": cannot read config file: symbolic link loop");
}

TEST(HostileInputCli, DeepNestingHugeNumbersAndAbsurdModels) {
  TempDir dir("hostile");
  const std::string deep = dir.write("deep.json", std::string(100000, '[') + std::string(100000, ']'));
  expect_one_line(run_cli({"summary", "--config", deep}), 2, deep + ":1:65: JSON nested deeper than 64 levels");
  const std::string cfg = dir.write("m.json", kModel);
  expect_one_line(run_cli({"summary", "--config", cfg, "--set", "layers.1.units=1e999"}), 2,
                  "--set layers.1.units=1e999: number out of range");
  const std::string huge = dir.write("huge.json", R"({"input": {"channels": 4096, "height": 32768, "width": 32768},
      "layers": [{"type": "flatten"}, {"type": "dense", "units": 16777216}]})");
  CliResult r = run_cli({"summary", "--config", huge});
  expect_one_line(r, 2, huge + ":/input: the model: the input 32768×32768×4096 brings the model to about 16.00 TiB");
  EXPECT_NE(r.err.find("of memory this machine has"), std::string::npos) << r.err;
}

TEST(HostileInputCli, CheckpointsThatAreNotRegularFilesExitOne) {
  TempDir dir("hostile");
  ASSERT_EQ(::mkfifo(dir.str("fifo.pt").c_str(), 0600), 0);
  expect_one_line(run_cli({"predict", "--checkpoint", dir.str("fifo.pt"), "x.png"}), 1,
                  dir.str("fifo.pt") + ": is a named pipe (FIFO), expected a checkpoint");
  expect_one_line(run_cli({"evaluate", "--checkpoint", "/dev/zero"}), 1,
                  "/dev/zero: is a character device, expected a checkpoint");
}

TEST(HostileInputCli, NonUtf8ConfigFileNamesAndValues) {
  TempDir dir("hostile");
  const std::string cfg = dir.write("mod\xe8le.json", kModel);
  CliResult r = run_cli({"summary", "--config", cfg, "--set", "description=caf\xe9"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Model: \"mod\xe8le\""), std::string::npos) << r.out;
}
