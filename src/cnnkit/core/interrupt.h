// SIGINT / SIGTERM handling for long runs: the first signal sets a flag that the trainer checks
// after each step (it then writes a checkpoint and stops); a second signal exits at once.
#pragma once

namespace cnnkit {

void install_interrupt_handlers();
bool interrupt_requested();
int interrupt_signal();  // the signal number received, 0 if none

}  // namespace cnnkit
