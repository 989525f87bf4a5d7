#include "cnnkit/core/interrupt.h"

#include <csignal>
#include <unistd.h>

#include <atomic>

namespace cnnkit {
namespace {
std::atomic<int> g_signal{0};

extern "C" void on_signal(int sig) {
  if (g_signal.exchange(sig) != 0) {
    // Second signal: the user insists. Leave without cleanup (checkpoints are atomic).
    const char msg[] = "\ncnnkit: interrupted twice, exiting now\n";
    ssize_t ignored = ::write(2, msg, sizeof msg - 1);
    (void)ignored;
    _exit(128 + sig);
  }
}
}  // namespace

void install_interrupt_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool interrupt_requested() { return g_signal.load() != 0; }
int interrupt_signal() { return g_signal.load(); }

}  // namespace cnnkit
