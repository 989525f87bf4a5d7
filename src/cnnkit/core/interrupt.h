// SIGINT / SIGTERM handling for long runs: the first signal sets a flag that the trainer checks
// after each step (it then writes a checkpoint and stops); a second signal exits at once —
// unless a file is being written (a CriticalSection is open): then the exit waits until the
// write is complete, so a rename never leaves a half-done checkpoint behind.
// A signal the parent shell set to "ignored" stays ignored (nohup, `cmd &` in scripts), and
// interrupted system calls restart (SA_RESTART).
#pragma once

namespace cnnkit {

void install_interrupt_handlers();
bool interrupt_requested();
int interrupt_signal();  // the signal number received, 0 if none
// Forgets a received signal (a process that serves several runs, e.g. a test worker).
void clear_interrupt();

// While one is alive, a second signal does not exit the process; it exits when the last one
// closes instead. Nests.
class CriticalSection {
 public:
  CriticalSection();
  ~CriticalSection();
  CriticalSection(const CriticalSection&) = delete;
  CriticalSection& operator=(const CriticalSection&) = delete;
};

}  // namespace cnnkit
