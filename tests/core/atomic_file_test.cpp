// Atomic writes keep the previous version when the new one cannot be written (file-size
// limit standing in for a full disk), leave no temporary file, and name the file and reason.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>

#include "cnnkit/core/atomic_file.h"
#include "cnnkit/core/error.h"
#include "support/cli.h"

using namespace cnnkit;
using namespace cnnkit::test;
namespace fs = std::filesystem;

TEST(AtomicFile, ReplacesTheFileWhole) {
  TempDir dir;
  const fs::path p = dir.path() / "a.txt";
  write_text_atomically(p, "first\n");
  write_text_atomically(p, "second\n");
  EXPECT_EQ(read_file(p.string()), "second\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(AtomicFile, AFailedWriteKeepsThePreviousVersionAndNoTemporaryFile) {
  TempDir dir;
  const fs::path p = dir.path() / "ckpt.bin";
  write_file_atomically(p, std::string(1000, 'a'));
  // A file-size limit makes write(2) fail with EFBIG (SIGXFSZ ignored, as cnnkit's main does).
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  getrlimit(RLIMIT_FSIZE, &old);
  rlimit small = old;
  small.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string message;
  try {
    write_file_atomically(p, std::string(100000, 'b'));
  } catch (const Error& e) {
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_EQ(message.rfind(p.string() + ": cannot write: File too large", 0), 0u) << message;
  EXPECT_NE(message.find("previous version"), std::string::npos) << message;
  EXPECT_EQ(read_file(p.string()), std::string(1000, 'a'));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(AtomicFile, AMissingFolderIsAnErrorNamingTheFile) {
  TempDir dir;
  const fs::path p = dir.path() / "no" / "such" / "x.json";
  try {
    write_text_atomically(p, "{}");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(p.string() + ": cannot write: No such file or directory", 0), 0u) << e.what();
  }
}
