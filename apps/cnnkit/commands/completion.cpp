// cnnkit completion bash|zsh: print a shell completion script generated from the CLI definitions.
#include <iostream>

#include "commands/commands.h"
#include "completion_script.h"

namespace cnnkit {

Command register_completion(CLI::App& app, const GlobalOptions&) {
  auto shell = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("completion", "Print a shell completion script: source <(cnnkit completion bash)");
  sub->add_option("shell", *shell, "Shell")->required()->check(CLI::IsMember({"bash", "zsh"}));
  const CLI::App* root = &app;
  return {sub, [shell, root]() {
            std::cout << (*shell == "zsh" ? zsh_completion_script(*root) : bash_completion_script(*root));
            return 0;
          }};
}

}  // namespace cnnkit
