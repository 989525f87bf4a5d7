// Config names: the path as given, then ./configs, then the installed configs; NAME.json too;
// the error lists every place looked at; `cnnkit configs` listing with descriptions.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>

#include "cnnkit/config/config_lookup.h"
#include "cnnkit/core/error.h"
#include "support/cli.h"

using namespace cnnkit;
using namespace cnnkit::test;
namespace fs = std::filesystem;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no ConfigError)";
}

// A working directory with ./configs and an "installed" configs folder elsewhere.
struct Places {
  TempDir tmp{"cnnkit-lookup"};
  fs::path cwd = tmp.path() / "work";
  fs::path installed = tmp.path() / "prefix" / "share" / "cnnkit" / "configs";
  Places() {
    fs::create_directories(cwd / "configs");
    fs::create_directories(installed);
  }
  std::vector<fs::path> dirs() const { return {"configs", installed}; }
  void put(const fs::path& file, const std::string& description = "d") const {
    fs::create_directories(file.parent_path());
    std::ofstream(file) << R"({"description": ")" << description << R"("})";
  }
};

}  // namespace

TEST(ConfigLookup, PathAsGivenComesFirst) {
  Places p;
  p.put(p.cwd / "x.json");
  p.put(p.cwd / "configs" / "x.json");
  p.put(p.installed / "x.json");
  ScopedCwd in(p.cwd);
  EXPECT_EQ(find_config_file("x.json", p.dirs()), "x.json");
  EXPECT_EQ(find_config_file("x", p.dirs()), "x.json");  // bare name: .json added
  EXPECT_EQ(find_config_file((p.cwd / "x.json").string(), p.dirs()), (p.cwd / "x.json").string());
}

TEST(ConfigLookup, ThenConfigsInTheCurrentDirectoryThenTheInstalledOnes) {
  Places p;
  p.put(p.cwd / "configs" / "x.json");
  p.put(p.installed / "x.json");
  p.put(p.installed / "only.json");
  ScopedCwd in(p.cwd);
  EXPECT_EQ(find_config_file("x", p.dirs()), "configs/x.json");
  EXPECT_EQ(find_config_file("x.json", p.dirs()), "configs/x.json");
  EXPECT_EQ(find_config_file("only", p.dirs()), (p.installed / "only.json").string());
  // A name with an extension other than .json is taken as written.
  p.put(p.installed / "odd.cfg");
  EXPECT_EQ(find_config_file("odd.cfg", p.dirs()), (p.installed / "odd.cfg").string());
}

TEST(ConfigLookup, MissingNameListsEveryPlaceLookedAt) {
  Places p;
  ScopedCwd in(p.cwd);
  const std::string inst = p.installed.string();
  EXPECT_EQ(error_of([&] { find_config_file("nope", p.dirs()); }),
            "nope: config file not found; looked for nope, nope.json, configs/nope, configs/nope.json, " + inst +
                "/nope, " + inst + "/nope.json (cnnkit configs lists the configs a bare name finds)");
  EXPECT_EQ(error_of([&] { find_config_file("nope.json", p.dirs()); }),
            "nope.json: config file not found; looked for nope.json, configs/nope.json, " + inst +
                "/nope.json (cnnkit configs lists the configs a bare name finds)");
}

TEST(ConfigLookup, PathsWithAFolderAreNotSearchedElsewhere) {
  Places p;
  p.put(p.installed / "sub" / "x.json");
  p.put(p.cwd / "configs" / "sub" / "x.json");
  ScopedCwd in(p.cwd);
  EXPECT_EQ(error_of([&] { find_config_file("sub/x.json", p.dirs()); }),
            "sub/x.json: config file not found; looked for sub/x.json");
  EXPECT_EQ(find_config_file("configs/sub/x", p.dirs()), "configs/sub/x.json");
}

TEST(ConfigLookup, AFolderIsReturnedForLoadConfigToRefuse) {
  Places p;
  fs::create_directories(p.cwd / "mnist");
  p.put(p.cwd / "configs" / "mnist.json");
  ScopedCwd in(p.cwd);
  EXPECT_EQ(find_config_file("mnist", p.dirs()), "configs/mnist.json");  // a file wins over the folder
  EXPECT_EQ(find_config_file("configs", p.dirs()), "configs");            // nothing else: the folder itself
  EXPECT_EQ(error_of([&] { find_config_file("", p.dirs()); }), "--config: empty config name");
}

TEST(ConfigLookup, ListingShowsDescriptionsAndHidesShadowedNames) {
  Places p;
  p.put(p.cwd / "configs" / "b.json", "Local b. More text.");
  p.put(p.installed / "a.json", "Installed a.");
  p.put(p.installed / "b.json", "Installed b, hidden by the local one.");
  std::ofstream(p.installed / "broken.json") << "{ nope";
  std::ofstream(p.installed / "notes.txt") << "not a config";
  ScopedCwd in(p.cwd);
  const auto list = list_configs(p.dirs());
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].name, "b");
  EXPECT_EQ(list[0].dir, "configs");
  EXPECT_EQ(list[0].description, "Local b. More text.");
  EXPECT_EQ(list[1].name, "a");
  EXPECT_EQ(list[1].path, (p.installed / "a.json").string());
  EXPECT_EQ(list[2].name, "broken");
  EXPECT_EQ(list[2].problem, "malformed JSON");
  EXPECT_TRUE(list_configs({p.tmp.path() / "absent"}).empty());
}

TEST(ConfigLookup, ShippedConfigsAllHaveADescription) {
  for (const auto& c : list_configs({fs::path(source_dir()) / "configs"})) {
    EXPECT_EQ(c.problem, "") << c.path;
    EXPECT_FALSE(c.description.empty()) << c.path << " has no \"description\" for `cnnkit configs`";
  }
}
