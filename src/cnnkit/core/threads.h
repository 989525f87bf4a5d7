// Thread defaults. Debian's LibTorch starts with one intra-op thread; cnnkit uses every
// physical core unless told otherwise (DESIGN.md: that nearly doubled training throughput).
#pragma once

namespace cnnkit {

int physical_core_count();
// n <= 0 means "all physical cores". Throws UsageError for absurd values.
void configure_threads(int n);

}  // namespace cnnkit
