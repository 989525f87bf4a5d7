// Host allocator tuning. glibc serves blocks above a (dynamic, at most 32 MiB) threshold with
// fresh mmap()s and returns freed heap tops to the kernel, so every large activation or
// gradient tensor of a training step is page-faulted and zeroed by the kernel again. On this
// machine that made element-wise ops (ReLU, batch norm, pooling backward) 3-6x slower than
// memory bandwidth allows, and batch-norm training ~3x slower overall (docs/performance.md).
// configure_allocator() keeps large blocks on the heap and the heap resident, so a training
// loop reuses the same pages every step.
#pragma once

#include <string>

namespace cnnkit {

// Idempotent; a no-op where the C library is not glibc, or when the user steers malloc
// themselves (MALLOC_* / GLIBC_TUNABLES set) or opts out with CNNKIT_MALLOC=system.
// Returns a one-word description of what was done, for `info` and debug logs.
std::string configure_allocator();

}  // namespace cnnkit
