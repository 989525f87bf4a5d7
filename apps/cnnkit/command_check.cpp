#include "command_check.h"

#include <string>
#include <vector>

#include "cnnkit/core/error.h"
#include "cnnkit/core/strings.h"

namespace cnnkit {

void check_command_name(const CLI::App& app, int argc, const char* const* argv) {
  std::vector<std::string> commands;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) commands.push_back(sub->get_name());
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") return;
    if (arg.size() > 1 && arg[0] == '-') {
      const std::string name = arg.substr(0, arg.find('='));
      const CLI::Option* opt = app.get_option_no_throw(name);
      if (!opt) return;  // --help, --version, or unknown: CLI11's business
      if (arg.find('=') == std::string::npos && opt->get_items_expected_max() > 0) ++i;  // skip its value
      continue;
    }
    for (const auto& c : commands)
      if (c == arg) return;
    throw UsageError("unknown command '" + arg + "'" + did_you_mean(arg, commands) + "; commands: " + join(commands, ", ") +
                     " (cnnkit --help describes them)");
  }
}

}  // namespace cnnkit
