// The layering of docs/architecture.md, checked on the sources: no folder of src/cnnkit
// includes a folder above it, the siblings model and data stay independent, and the training
// step's backward() exists once.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "support/cli.h"

namespace fs = std::filesystem;

namespace {

// Level of each folder: a folder may include its own level's folders only where allowed
// below, and any lower level.
const std::map<std::string, int> kLevel = {
    {"core", 0}, {"config", 1}, {"io", 1},   {"dist", 1}, {"layers", 2}, {"model", 3},
    {"data", 3}, {"train", 4},  {"eval", 4}, {"viz", 5},  {"bench", 5},  {"export", 5},
};
// Same-level includes that the design allows: train may use eval.
const std::set<std::pair<std::string, std::string>> kAllowedSiblings = {{"train", "eval"}};

std::string folder_of(const fs::path& file, const fs::path& root) { return fs::relative(file, root).begin()->string(); }

std::string read(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST(Architecture, NoFolderIncludesAHigherOrSiblingFolder) {
  const fs::path root = fs::path(cnnkit::test::source_dir()) / "src" / "cnnkit";
  const std::regex include(R"re(#include\s+"cnnkit/([a-z_]+)/)re");
  std::vector<std::string> violations;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file() || entry.path().filename() == "pch.h") continue;
    const std::string from = folder_of(entry.path(), root);
    ASSERT_TRUE(kLevel.count(from)) << "src/cnnkit/" << from << " has no level in this test and docs/architecture.md";
    const std::string text = read(entry.path());
    for (std::sregex_iterator it(text.begin(), text.end(), include), end; it != end; ++it) {
      const std::string to = (*it)[1];
      if (to == from) continue;
      ASSERT_TRUE(kLevel.count(to)) << to;
      const bool lower = kLevel.at(to) < kLevel.at(from);
      if (!lower && !kAllowedSiblings.count({from, to}))
        violations.push_back(fs::relative(entry.path(), root).string() + " includes cnnkit/" + to);
    }
  }
  EXPECT_TRUE(violations.empty()) << [&] {
    std::string s;
    for (const auto& v : violations) s += v + "\n";
    return s;
  }();
}

TEST(Architecture, BackwardOfTheTrainingStepExistsOnce) {
  const fs::path root = fs::path(cnnkit::test::source_dir()) / "src" / "cnnkit";
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    std::istringstream lines(read(entry.path()));
    std::string line, code;
    while (std::getline(lines, line)) code += line.substr(0, line.find("//")) + "\n";  // comments may say it
    if (code.find(".backward(") != std::string::npos) files.push_back(fs::relative(entry.path(), root).string());
  }
  EXPECT_EQ(files, std::vector<std::string>{"train/train_step.cpp"});
}
