#include "cnnkit/core/interrupt.h"

#include <unistd.h>

#include <atomic>
#include <csignal>

namespace cnnkit {
namespace {

std::atomic<int> g_signal{0};
std::atomic<int> g_critical{0};             // open CriticalSections
std::atomic<int> g_exit_after_critical{0};  // a second signal arrived during one

void exit_now(int sig) {
  const char msg[] = "\ncnnkit: interrupted twice, exiting now\n";
  ssize_t ignored = ::write(2, msg, sizeof msg - 1);
  (void)ignored;
  _exit(128 + sig);
}

extern "C" void on_signal(int sig) {
  if (g_signal.exchange(sig) == 0) return;  // first signal: the trainer stops after this step
  // Second signal: the user insists. Leave now, unless a file is being written.
  if (g_critical.load() > 0) {
    g_exit_after_critical.store(sig);
    return;
  }
  exit_now(sig);
}

void install(int sig) {
  struct sigaction old {};
  if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) return;  // keep "ignored"
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(sig, &sa, nullptr);
}

}  // namespace

void install_interrupt_handlers() {
  install(SIGINT);
  install(SIGTERM);
}

bool interrupt_requested() { return g_signal.load() != 0; }
int interrupt_signal() { return g_signal.load(); }
void clear_interrupt() {
  g_signal.store(0);
  g_exit_after_critical.store(0);
}

CriticalSection::CriticalSection() { g_critical.fetch_add(1); }

CriticalSection::~CriticalSection() {
  if (g_critical.fetch_sub(1) == 1) {
    if (int sig = g_exit_after_critical.load()) exit_now(sig);
  }
}

}  // namespace cnnkit
