// Running cnnkit as a person at a terminal sees it (tests/support/cli.h runs it on pipes). Both
// run the child with LC_ALL=C.UTF-8 unless `env` sets LC_ALL, so output does not depend on the
// caller's locale.
#pragma once
#include <string>
#include <vector>

#include "support/cli.h"

namespace cnnkit::test {

// `cnnkit ARGS...` with stdout on a pseudo-terminal; `out` holds what was written to it
// ("\r\n" line ends turned into "\n"). With `stderr_too`, stderr goes to the terminal as well
// (and into `out`). `env`: NAME=VALUE entries added to the child's environment.
CliResult run_cli_tty(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                      bool stderr_too = false);

}  // namespace cnnkit::test
