// Shell completion generated from the CLI11 definitions (`cnnkit completion bash|zsh`): the
// commands, each command's options (global options too, since they may follow the command),
// the values of options that take a fixed set (CLI::IsMember, or "a|b|c" in the help text),
// config names for --config, and file names elsewhere. Nothing is written by hand, so the
// script never drifts from the options.
#pragma once
#include <string>

#include <CLI/CLI.hpp>

namespace cnnkit {

std::string bash_completion_script(const CLI::App& app);
// zsh: the bash script behind zsh's bashcompinit.
std::string zsh_completion_script(const CLI::App& app);

}  // namespace cnnkit
