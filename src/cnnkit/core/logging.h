// Logging setup: spdlog to stderr only (stdout is for results). Progress output asks
// whether stderr is a terminal and whether the user asked for quiet.
#pragma once
#include <string>

namespace cnnkit {

// level: trace|debug|info|warn|error|off. Throws UsageError for anything else.
void setup_logging(const std::string& level, bool quiet);
bool quiet_mode();
bool stderr_is_terminal();

}  // namespace cnnkit
