#include "cnnkit/config/config_lookup.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cnnkit/core/error.h"
#include "cnnkit/core/install_dirs.h"
#include "cnnkit/core/strings.h"

namespace cnnkit {
namespace fs = std::filesystem;

namespace {

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// NAME, and NAME.json when NAME has no extension.
std::vector<fs::path> spellings(const fs::path& dir, const std::string& name) {
  const fs::path p = dir.empty() ? fs::path(name) : dir / name;
  std::vector<fs::path> out{p};
  if (fs::path(name).extension().empty()) out.push_back(fs::path(p.string() + ".json"));
  return out;
}

}  // namespace

std::vector<fs::path> config_search_dirs() {
  std::vector<fs::path> dirs{"configs"};
  const fs::path share = installed_data_dir();
  if (!share.empty()) dirs.push_back(share / "configs");
  return dirs;
}

std::string find_config_file(const std::string& name, const std::vector<fs::path>& dirs) {
  if (name.empty()) throw ConfigError("--config: empty config name");
  std::vector<fs::path> tried = spellings({}, name);
  const bool bare = name.find('/') == std::string::npos;
  if (bare)
    for (const auto& d : dirs)
      for (auto& p : spellings(d, name)) tried.push_back(p);
  for (const auto& p : tried)
    if (is_file(p)) return p.string();
  // Something is there that is not a regular file (a folder, a FIFO, a dangling link or a link
  // loop): load_config says what it is.
  std::error_code ec;
  if (fs::symlink_status(name, ec).type() != fs::file_type::not_found && !ec) return name;
  std::vector<std::string> looked;
  for (const auto& p : tried) looked.push_back(p.string());
  throw ConfigError(name + ": config file not found; looked for " + join(looked, ", ") +
                    (bare ? " (cnnkit configs lists the configs a bare name finds)" : ""));
}

std::vector<ConfigListing> list_configs(const std::vector<fs::path>& dirs) {
  std::vector<ConfigListing> out;
  std::set<std::string> seen;
  for (const auto& dir : dirs) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.path().extension() == ".json" && is_file(e.path())) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      ConfigListing c;
      c.name = f.stem().string();
      if (!seen.insert(c.name).second) continue;
      c.path = f.string();
      c.dir = dir.string();
      std::ifstream in(f, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      try {
        const auto j = nlohmann::json::parse(text.str(), nullptr, true, /*ignore_comments=*/true);
        if (j.is_object() && j.contains("description") && j["description"].is_string())
          c.description = j["description"].get<std::string>();
        else if (!j.is_object())
          c.problem = "not a JSON object";
      } catch (const nlohmann::json::exception&) {
        c.problem = "malformed JSON";
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

}  // namespace cnnkit
