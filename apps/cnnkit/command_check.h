// Catches a misspelt command before CLI11 parses the line, so that `cnnkit trian` says
// "unknown command 'trian' (did you mean 'train'?)" instead of "A subcommand is required".
#pragma once
#include <CLI/CLI.hpp>

namespace cnnkit {

// The first argument that is neither an option nor an option's value must name a command of
// `app`. Throws UsageError otherwise, listing the commands. Leaves everything else (unknown
// options, --help, --version, no command at all) to CLI11.
void check_command_name(const CLI::App& app, int argc, const char* const* argv);

}  // namespace cnnkit
