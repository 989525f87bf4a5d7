// Opening input files that are not regular files (core/input_file.h): every kind is refused
// with a reason, at once (a FIFO without a writer would otherwise block forever, /dev/zero
// would be read forever), and whole-file reads are bounded.
#include "cnnkit/core/input_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "cnnkit/core/atomic_file.h"
#include "cnnkit/core/error.h"
#include "support/cli.h"

using namespace cnnkit;
using cnnkit::test::TempDir;
namespace fs = std::filesystem;

TEST(InputFile, ReadsARegularFileAndFollowsLinks) {
  TempDir dir("input");
  const std::string path = dir.write("a.txt", "hello");
  fs::create_symlink(path, dir.path() / "link");
  for (const std::string& p : {path, dir.str("link")}) {
    InputFile in(p);
    ASSERT_TRUE(in.ok()) << in.problem();
    EXPECT_EQ(in.size(), 5u);
    std::string text;
    EXPECT_TRUE(in.read_all(text, 100));
    EXPECT_EQ(text, "hello");
  }
}

TEST(InputFile, RefusesWhatIsNotARegularFile) {
  TempDir dir("input");
  ASSERT_EQ(::mkfifo(dir.str("fifo").c_str(), 0600), 0);
  fs::create_symlink(dir.path() / "loop-b", dir.path() / "loop-a");
  fs::create_symlink(dir.path() / "loop-a", dir.path() / "loop-b");
  fs::create_symlink(dir.path() / "gone.json", dir.path() / "dangling");
  struct Case {
    std::string path, message;
  };
  const std::vector<Case> cases = {
      {dir.str(), dir.str() + ": is a directory, expected a config file"},
      {dir.str("fifo"), dir.str("fifo") + ": is a named pipe (FIFO), expected a config file"},
      {"/dev/zero", "/dev/zero: is a character device, expected a config file"},
      {dir.str("loop-a"), dir.str("loop-a") + ": cannot read config file: symbolic link loop (too many levels of symbolic links)"},
      {dir.str("dangling"), dir.str("dangling") + ": cannot read config file: dangling symbolic link to '" +
                                dir.str("gone.json") + "' (its target does not exist)"},
      {dir.str("none.json"), dir.str("none.json") + ": config file not found"},
      {std::string("a\0b", 3), "a\\0b: cannot read config file: path contains a NUL byte"},
  };
  for (const auto& c : cases) {
    InputFile in(c.path);
    EXPECT_FALSE(in.ok()) << c.path;
    EXPECT_EQ(in.message("config file"), c.message);
    // The same through the config reader: ConfigError with that message.
    try {
      read_text_file(c.path, "config file");
      ADD_FAILURE() << c.path;
    } catch (const ConfigError& e) {
      EXPECT_EQ(std::string(e.what()), c.message);
    }
  }
  EXPECT_EQ(input_file_problem("/dev/zero"), "is a character device");
  EXPECT_EQ(input_file_problem(dir.str("fifo")), "is a named pipe (FIFO)");
}

TEST(InputFile, WholeFileReadsAreBounded) {
  TempDir dir("input");
  const std::string path = dir.write("big.json", std::string(1000, ' '));
  InputFile in(path);
  std::string text;
  EXPECT_FALSE(in.read_all(text, 999));
  EXPECT_EQ(in.message("config file"),
            path + ": cannot read config file: the file is 1000 bytes, more than the 999 accepted");
  EXPECT_TRUE(text.empty());
  try {
    read_text_file(path, "config file", 10);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("1000 bytes, more than the 10 accepted"), std::string::npos) << e.what();
  }
}
