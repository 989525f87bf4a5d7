// Thread defaults. Debian's LibTorch starts with one intra-op thread; cnnkit uses every
// physical core unless told otherwise (DESIGN.md: that nearly doubled training throughput).
#pragma once

namespace cnnkit {

int physical_core_count();
// n <= 0 means the default: the physical cores shared among `processes_per_machine` processes
// (data-parallel ranks on one machine: LOCAL_WORLD_SIZE), at least one each.
// Throws UsageError for absurd values.
void configure_threads(int n, int processes_per_machine = 1);

}  // namespace cnnkit
