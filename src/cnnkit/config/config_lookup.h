// Config names as people type them: `--config cifar.json`, `--config cifar`, or a path.
//
// A name resolves to the first file among:
//   1. the path as given (relative to the current directory), then NAME.json;
//   2. configs/NAME, then configs/NAME.json, in the current directory;
//   3. NAME, then NAME.json, in the installed configs (<prefix>/share/cnnkit/configs).
// Places 2 and 3 apply to bare names only (no '/'); ".json" is tried only when NAME has no
// extension. When none exists the ConfigError lists every place that was looked at.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace cnnkit {

// The folders searched for bare names after the current directory: "configs" (relative, so
// it follows the current directory) and the installed share/cnnkit/configs.
std::vector<std::filesystem::path> config_search_dirs();

// The file a config name refers to (as given when it exists, so that a folder given as a config
// still gets load_config's own error). Throws ConfigError "NAME: config file not found; looked
// for A, B, ..." when nothing matches.
std::string find_config_file(const std::string& name,
                             const std::vector<std::filesystem::path>& dirs = config_search_dirs());

// One config that a bare name reaches, with its "description" field.
struct ConfigListing {
  std::string name;         // the bare name: the file name without .json
  std::string path;         // where it is
  std::string dir;          // the search folder it was found in
  std::string description;  // "" when the file has none
  std::string problem;      // "" or why the file could not be read (malformed JSON, ...)
};

// Every *.json in `dirs`, in search order and by name; a name found in an earlier folder
// hides the same name in later ones (as find_config_file would resolve it).
std::vector<ConfigListing> list_configs(const std::vector<std::filesystem::path>& dirs = config_search_dirs());

}  // namespace cnnkit
