// The documentation must stay true. This test
//  - runs every code block of README.md and docs/*.md marked runnable (an HTML comment
//    `<!-- runnable -->` on the line before its ``` fence), block after block in one scratch
//    folder per file, on small data: `configs/` and `data/mnist` (../shared/data/mnist) are
//    linked in, and a `cnnkit` wrapper first on PATH adds --set data.limit_train=600
//    --set data.limit_test=200 to commands given a config or a run (and training.epochs=1 to
//    a fresh `train`);
//  - checks that every relative link and image in those files exists inside the repository;
//  - checks figures the docs state against the tool: the training defaults of docs/training.md,
//    the LibTorch version of the README.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "support/cli.h"

using namespace cnnkit::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<fs::path> doc_files() {
  const fs::path root = source_dir();
  std::vector<fs::path> files = {root / "README.md"};
  for (const auto& e : fs::directory_iterator(root / "docs"))
    if (e.path().extension() == ".md") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

struct Block {
  int line = 0;  // of the opening fence
  std::string text;
};

std::vector<Block> runnable_blocks(const fs::path& file) {
  std::vector<Block> blocks;
  std::istringstream in(slurp(file));
  std::string line, previous;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.rfind("```", 0) == 0 && previous.find("<!-- runnable -->") != std::string::npos) {
      Block b;
      b.line = n;
      while (std::getline(in, line) && line.rfind("```", 0) != 0) {
        ++n;
        b.text += line + "\n";
      }
      ++n;
      blocks.push_back(b);
    }
    previous = line;
  }
  return blocks;
}

// Writes the cnnkit wrapper that puts every documented command on small data.
void write_wrapper(const fs::path& bin) {
  fs::create_directories(bin);
  const fs::path w = bin / "cnnkit";
  std::ofstream out(w);
  out << "#!/bin/sh\n"
         "# cnnkit on small data for the docs test\n"
         "cmd=''; data=0; resume=0\n"
         "for a in \"$@\"; do\n"
         "  case \"$a\" in\n"
         "    --config|-c|--config=*|--checkpoint|--checkpoint=*|--compare) data=1 ;;\n"
         "    --resume|--resume=*) data=1; resume=1 ;;\n"
         "  esac\n"
         "  if [ -z \"$cmd\" ]; then\n"
         "    case \"$a\" in summary|info|train|evaluate|predict|data|bench|featuremap) cmd=\"$a\" ;; esac\n"
         "  fi\n"
         "done\n"
         "extra=''\n"
         "case \"$cmd\" in summary|info|predict) data=0 ;; esac\n"
         "if [ $data = 1 ]; then extra='--set data.limit_train=600 --set data.limit_test=200'; fi\n"
         "if [ \"$cmd\" = train ] && [ $resume = 0 ]; then extra=\"$extra --set training.epochs=1\"; fi\n"
         "exec \""
      << CNNKIT_BINARY << "\" \"$@\" $extra\n";
  out.close();
  fs::permissions(w, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec, fs::perm_options::replace);
}

struct ShellResult {
  int code = -1;
  std::string output;
};

// Runs `script` with /bin/sh -e in `dir`, `bin` first on PATH; stdout and stderr together.
ShellResult run_shell(const std::string& script, const fs::path& dir, const fs::path& bin) {
  const fs::path log = dir / ".block-output";
  pid_t pid = fork();
  if (pid == 0) {
    if (chdir(dir.c_str()) != 0) _exit(126);
    const std::string path = bin.string() + ":" + (getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
    setenv("PATH", path.c_str(), 1);
    setenv("LC_ALL", "C.UTF-8", 1);
    unsetenv("CNNKIT_DATA");
    execl("/bin/sh", "sh", "-e", "-c", ("exec >" + log.string() + " 2>&1\n" + script).c_str(), nullptr);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ShellResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.output = slurp(log);
  return r;
}

bool have_mnist() { return fs::exists(shared_data() / "mnist" / "train-images-idx3-ubyte.gz"); }

}  // namespace

TEST(Docs, RunnableBlocksRunOnSmallData) {
  if (!have_mnist()) GTEST_SKIP() << "../shared/data/mnist not found";
  int blocks = 0;
  for (const auto& file : doc_files()) {
    const auto found = runnable_blocks(file);
    if (found.empty()) continue;
    TempDir work("docs");
    fs::create_directories(work.path() / "data");
    fs::create_directory_symlink(fs::path(source_dir()) / "configs", work.path() / "configs");
    fs::create_directory_symlink(fs::absolute(shared_data() / "mnist"), work.path() / "data" / "mnist");
    write_wrapper(work.path() / ".bin");
    for (const auto& b : found) {
      ++blocks;
      const ShellResult r = run_shell(b.text, work.path(), work.path() / ".bin");
      EXPECT_EQ(r.code, 0) << fs::relative(file, source_dir()).string() << ":" << b.line << ": this block failed:\n"
                           << b.text << "--- output ---\n"
                           << r.output;
      if (r.code != 0) break;  // later blocks of the file build on this one
    }
  }
  EXPECT_GE(blocks, 8) << "the README and the tutorial mark their commands runnable";
}

TEST(Docs, LinksAndImagesPointIntoTheRepository) {
  const fs::path root = fs::weakly_canonical(source_dir());
  const std::regex link(R"(\]\(([^)#\s]+)(#[^)]*)?\))");
  int checked = 0;
  for (const auto& file : doc_files()) {
    const std::string text = slurp(file);
    for (std::sregex_iterator it(text.begin(), text.end(), link), end; it != end; ++it) {
      const std::string target = (*it)[1];
      if (target.find("://") != std::string::npos || target.rfind("mailto:", 0) == 0) continue;
      const fs::path p = fs::weakly_canonical(file.parent_path() / target);
      const std::string rel = fs::relative(p, root).string();
      EXPECT_TRUE(rel.rfind("..", 0) != 0) << file.filename() << " points outside the repository: " << target;
      EXPECT_TRUE(fs::exists(p)) << file.filename() << " links to a missing file: " << target;
      ++checked;
    }
  }
  EXPECT_GT(checked, 10);
}

TEST(Docs, PerformancePageNamesNoFileOutsideTheRepository) {
  const std::string text = slurp(fs::path(source_dir()) / "docs" / "performance.md");
  for (const char* outside : {"DESIGN.md", "../shared", "/work/", "notes/"})
    EXPECT_EQ(text.find(outside), std::string::npos) << "docs/performance.md mentions " << outside;
}

TEST(Docs, TrainingDefaultsMatchTheTool) {
  const std::string doc = slurp(fs::path(source_dir()) / "docs" / "training.md");
  // A config without a training section: what --print-config shows is the tool's defaults.
  TempDir dir("docs-defaults");
  const std::string config = dir.write(
      "bare.json", R"({"name": "bare", "input": {"channels": 1, "height": 28, "width": 28},
                      "data": {"source": "mnist", "root": "data/mnist"},
                      "layers": [{"type": "flatten"}, {"type": "dense", "units": 10}]})");
  auto r = run_cli({"train", "--config", config, "--print-config", "--set",
                    "training.early_stopping=true", "--set", "training.reduce_on_plateau=true"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json t = json::parse(r.out)["training"];
  // The table row of each policy: "| `early_stopping` | off | `true` (the defaults) or `{...}`".
  for (const std::string key : {"early_stopping", "reduce_on_plateau"}) {
    const std::regex row("\\| `" + key + "` \\| off \\| `true` \\(the defaults\\) or `(\\{[^`]*\\})`");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(doc, m, row)) << "docs/training.md has no defaults row for " << key;
    const json stated = json::parse(m[1].str());
    for (auto it = stated.begin(); it != stated.end(); ++it)
      EXPECT_EQ(it.value(), t[key][it.key()]) << key << "." << it.key() << " in docs/training.md";
    for (auto it = t[key].begin(); it != t[key].end(); ++it)
      if (it.key() != "enabled") {
        EXPECT_TRUE(stated.contains(it.key())) << key << "." << it.key() << " is not documented";
      }
  }
  EXPECT_NE(doc.find("| `epochs` | " + std::to_string(t["epochs"].get<int>()) + " |"), std::string::npos);
  EXPECT_NE(doc.find("| `batch_size` | " + std::to_string(t["batch_size"].get<int>()) + " |"), std::string::npos);
}

TEST(Docs, ReadmeStatesTheLibTorchVersionTheToolPrints) {
  auto r = run_cli({"info", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string version = json::parse(r.out)["libtorch_version"];
  const std::string readme = slurp(fs::path(source_dir()) / "README.md");
  EXPECT_NE(readme.find("LibTorch " + version), std::string::npos) << "README.md should name LibTorch " << version;
  auto v = run_cli({"--version"});
  EXPECT_NE(v.out.find("LibTorch " + version), std::string::npos) << v.out;
}
