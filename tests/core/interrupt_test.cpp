// Signals: a second Ctrl-C while a file is being written waits for the write; outside a
// write it exits at once with 128 + signal.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>

#include "cnnkit/core/interrupt.h"
#include "support/cli.h"

using namespace cnnkit;
using namespace cnnkit::test;

namespace {
// Runs `body` in a child process; returns its exit status (128 + signal when killed).
template <typename F>
int in_child(F&& body) {
  pid_t pid = fork();
  if (pid == 0) {
    body();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
}  // namespace

TEST(Interrupt, FirstSignalOnlyRequestsAStop) {
  int code = in_child([] {
    install_interrupt_handlers();
    raise(SIGINT);
    _exit(interrupt_requested() && interrupt_signal() == SIGINT ? 7 : 1);
  });
  EXPECT_EQ(code, 7);
}

TEST(Interrupt, SecondSignalDuringAWriteWaitsForIt) {
  TempDir dir;
  const std::string marker = dir.str("written");
  int code = in_child([&] {
    install_interrupt_handlers();
    raise(SIGINT);
    {
      CriticalSection writing;
      raise(SIGINT);  // the user insists while the checkpoint is being written
      std::ofstream(marker) << "done";
    }          // exits here, after the write
    _exit(3);  // not reached
  });
  EXPECT_EQ(code, 128 + SIGINT);
  EXPECT_EQ(read_file(marker), "done");
}

TEST(Interrupt, SecondSignalOutsideAWriteExitsAtOnce) {
  int code = in_child([] {
    install_interrupt_handlers();
    raise(SIGTERM);
    raise(SIGTERM);
    _exit(3);
  });
  EXPECT_EQ(code, 128 + SIGTERM);
}

TEST(Interrupt, AnIgnoredSignalStaysIgnored) {
  int code = in_child([] {
    std::signal(SIGINT, SIG_IGN);  // e.g. started in the background by a shell script
    install_interrupt_handlers();
    raise(SIGINT);
    _exit(interrupt_requested() ? 1 : 9);
  });
  EXPECT_EQ(code, 9);
}
