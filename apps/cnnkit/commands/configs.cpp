// cnnkit configs [--json]: the configs a bare --config NAME finds (./configs, then the installed
// ones), each with the first sentence of its "description".
#include <iostream>

#include "cnnkit/config/config_lookup.h"
#include "cnnkit/core/strings.h"
#include "commands/commands.h"
#include "options.h"

namespace cnnkit {

namespace {

// The description's first sentence, at most `width` characters.
std::string one_line(const std::string& text, std::size_t width) {
  std::string line = text.substr(0, text.find('\n'));
  const auto stop = line.find(". ");
  if (stop != std::string::npos) line = line.substr(0, stop + 1);
  if (line.size() > width) line = line.substr(0, width - 3) + "...";
  return line;
}

int run_configs(bool json) {
  const auto dirs = config_search_dirs();
  const auto configs = list_configs(dirs);
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& c : configs) {
      nlohmann::json j = {{"name", c.name}, {"path", c.path}, {"dir", c.dir}, {"description", c.description}};
      if (!c.problem.empty()) j["problem"] = c.problem;
      out.push_back(j);
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::vector<std::string> looked;
  for (const auto& d : dirs) looked.push_back(d.is_relative() ? "./" + d.string() : d.string());
  if (configs.empty()) {
    std::cout << "no configs found (looked in " << join(looked, ", ") << ")\n";
    return 0;
  }
  std::size_t width = 4;
  for (const auto& c : configs) width = std::max(width, c.name.size());
  std::string dir;
  for (const auto& c : configs) {
    if (c.dir != dir) {
      dir = c.dir;
      std::cout << (dir == "configs" ? "./configs" : dir) << "\n";
    }
    const std::string text = c.problem.empty() ? one_line(c.description, 100) : "(" + c.problem + ")";
    std::cout << "  " << c.name << std::string(width - c.name.size() + 2, ' ') << text << "\n";
  }
  return 0;
}

}  // namespace

Command register_configs(CLI::App& app, const GlobalOptions&) {
  auto json = std::make_shared<bool>(false);
  auto* sub = app.add_subcommand("configs", "List the configs --config NAME finds (./configs, then the installed ones)");
  add_json_flag(sub, *json);
  return {sub, [json]() { return run_configs(*json); }};
}

}  // namespace cnnkit
