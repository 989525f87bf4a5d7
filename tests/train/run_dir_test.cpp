// Run directories: unique default names, safe names, one process at a time.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "cnnkit/core/error.h"
#include "cnnkit/train/run_dir.h"
#include "support/cli.h"

using namespace cnnkit;
using namespace cnnkit::test;
namespace fs = std::filesystem;

namespace {
struct InDir {
  fs::path old;
  explicit InDir(const fs::path& p) : old(fs::current_path()) { fs::current_path(p); }
  ~InDir() { fs::current_path(old); }
};
}  // namespace

TEST(RunDir, DefaultNamesAreUniqueWithinOneSecondAndStayUnderRuns) {
  TempDir dir;
  InDir in(dir.path());
  const std::string a = create_default_run_dir("mnist"), b = create_default_run_dir("mnist");
  EXPECT_NE(a, b);
  EXPECT_TRUE(fs::is_directory(a));
  EXPECT_TRUE(fs::is_directory(b));
  const std::string evil = create_default_run_dir("../../etc/x");
  EXPECT_EQ(evil.rfind("runs/", 0), 0u) << evil;
  EXPECT_EQ(evil.find(".."), std::string::npos) << evil;
  EXPECT_EQ(evil.find('/', 5), std::string::npos) << evil;
}

TEST(RunDir, OneProcessAtATime) {
  TempDir dir;
  EXPECT_FALSE(RunDirLock::held(dir.str()));
  {
    RunDirLock lock(dir.str());
    // Another process cannot take it, and is told who holds it.
    pid_t pid = fork();
    if (pid == 0) {
      try {
        RunDirLock second(dir.str());
      } catch (const Error& e) {
        _exit(std::string(e.what()).find("another cnnkit process (pid " + std::to_string(getppid()) + ")") !=
                      std::string::npos
                  ? 5
                  : 6);
      }
      _exit(7);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_EQ(WEXITSTATUS(status), 5);
    pid = fork();
    if (pid == 0) _exit(RunDirLock::held(dir.str()) ? 1 : 0);
    waitpid(pid, &status, 0);
    EXPECT_EQ(WEXITSTATUS(status), 1);
  }
  EXPECT_FALSE(RunDirLock::held(dir.str()));
  RunDirLock again(dir.str());  // released with its owner
}

TEST(RunDir, HoldsRunLooksForItsFiles) {
  TempDir dir;
  EXPECT_FALSE(holds_run(dir.str()));
  dir.write("notes.txt", "mine");
  EXPECT_FALSE(holds_run(dir.str()));
  dir.write("last.pt", "x");
  EXPECT_TRUE(holds_run(dir.str()));
}
