// Logging setup: spdlog to stderr only (stdout is for results). Progress output asks
// whether stderr is a terminal and whether the user asked for quiet.
#pragma once
#include <string>

namespace cnnkit {

// level: trace|debug|info|warn|error|off. Throws UsageError for anything else.
void setup_logging(const std::string& level, bool quiet);
bool quiet_mode();
bool stderr_is_terminal();

// Data-parallel training: ranks other than 0 log only warnings and errors, each line prefixed
// with "[rank R]", and show no progress. Call after setup_logging(); rank 0 changes nothing.
void set_log_rank(int rank);
int log_rank();  // 0 unless set_log_rank() said otherwise

}  // namespace cnnkit
