// docs/export.md's snippets run as written: its shell block exports a checkpoint at
// runs/mnist (a random-weight MNIST model), then its Python blocks (TorchScript, model.py
// fine-tuning, ONNX check) run in one python3 in that folder; the fine-tuned state dict they
// save loads back with load_init_weights, and the shell block after them imports it with a
// 0-epoch run. Its C++ block is docs/examples/classify.cpp verbatim,
// which tests/CMakeLists.txt builds as its CMake block says and export_python_test runs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cnnkit/export/python_tool.h"
#include "cnnkit/model/init_weights.h"
#include "export/export_support.h"
#include "support/cli.h"
#include "support/model_helpers.h"
#include "train/train_fixtures.h"

using namespace cnnkit;
using namespace cnnkit::test;
namespace fs = std::filesystem;

namespace {

struct Block {
  std::string lang;
  std::string text;
};

std::vector<Block> code_blocks(const std::string& markdown) {
  std::vector<Block> blocks;
  std::istringstream in(markdown);
  std::string line;
  Block* open = nullptr;
  while (std::getline(in, line)) {
    if (line.rfind("```", 0) == 0) {
      if (open) {
        open = nullptr;
      } else {
        blocks.push_back({line.substr(3), ""});
        open = &blocks.back();
      }
    } else if (open) {
      open->text += line + "\n";
    }
  }
  return blocks;
}

std::vector<Block> blocks_of(const std::string& lang) {
  std::vector<Block> out;
  for (auto& b : code_blocks(read_file(source_dir() + "/docs/export.md")))
    if (b.lang == lang) out.push_back(b);
  return out;
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

// The shell blocks before the first Python block (they export the model the Python uses) and
// the ones after it (they bring the Python's results back).
std::pair<std::vector<Block>, std::vector<Block>> shell_blocks_around_python() {
  std::pair<std::vector<Block>, std::vector<Block>> out;
  bool after = false;
  for (auto& b : code_blocks(read_file(source_dir() + "/docs/export.md"))) {
    if (b.lang == "python") after = true;
    if (b.lang == "sh") (after ? out.second : out.first).push_back(b);
  }
  return out;
}

void run_shell_blocks(const std::vector<Block>& blocks, const TempDir& dir) {
  const std::string bin = fs::path(CNNKIT_BINARY).parent_path().string();
  for (const auto& b : blocks) {
    const ProcessResult r = run_process(
        {"bash", "-c", "cd " + quoted(dir.str()) + " && export PATH=" + quoted(bin) + ":\"$PATH\" && " + b.text});
    ASSERT_EQ(r.exit_code, 0) << b.text << r.err;
  }
}

}  // namespace

TEST(ExportDocs, CppSnippetIsTheExampleProgram) {
  auto cpp = blocks_of("cpp");
  ASSERT_EQ(cpp.size(), 1u);
  EXPECT_EQ(cpp[0].text, read_file(source_dir() + "/docs/examples/classify.cpp"));
}

TEST(ExportDocs, CmakeSnippetIsHowTheTestsBuildTheExample) {
  auto cmake = blocks_of("cmake");
  ASSERT_EQ(cmake.size(), 1u);
  EXPECT_NE(cmake[0].text.find("find_package(Torch REQUIRED)"), std::string::npos);
  EXPECT_NE(cmake[0].text.find("target_link_libraries(classify PRIVATE ${TORCH_LIBRARIES})"), std::string::npos);
  const std::string tests_cmake = read_file(source_dir() + "/tests/CMakeLists.txt");
  EXPECT_NE(
      tests_cmake.find("add_executable(cnnkit_classify_example ${PROJECT_SOURCE_DIR}/docs/examples/classify.cpp)"),
      std::string::npos);
  EXPECT_NE(tests_cmake.find("target_link_libraries(cnnkit_classify_example PRIVATE ${TORCH_LIBRARIES})"),
            std::string::npos);
}

TEST(ExportDocs, ShellAndPythonSnippetsRunAsWritten) {
  TempDir dir("cnnkit-export-docs");
  fs::create_directories(dir.str("runs/mnist"));
  json doc = json::parse(read_file(config_path("mnist.json")));
  doc.erase("data");
  doc.erase("training");
  write_random_checkpoint(doc, dir.str("runs/mnist/best.pt"), 21);

  const auto [before, after] = shell_blocks_around_python();
  ASSERT_FALSE(before.empty());
  run_shell_blocks(before, dir);
  ASSERT_TRUE(fs::exists(dir.str("export/model.ts")));
  ASSERT_TRUE(fs::exists(dir.str("export/model.py")));

  if (python_with_torch().empty()) GTEST_SKIP() << "no python3 with torch (install python3-torch)";
  const bool have_onnx = !find_python_with("onnx").python.empty();
  std::vector<std::string> args{"-c",
                                "import os, runpy, sys\n"
                                "os.chdir(sys.argv[1])\n"
                                "for f in sys.argv[2:]:\n"
                                "    print('== ' + f, flush=True)\n"
                                "    runpy.run_path(f, run_name='__main__')\n",
                                dir.str()};
  int n = 0;
  for (const auto& b : blocks_of("python")) {
    if (b.text.find("import onnx") != std::string::npos && !have_onnx) continue;  // needs python3-onnx
    args.push_back(dir.write("snippet" + std::to_string(n++) + ".py", b.text));
  }
  ASSERT_GE(n, 2);
  const ProcessResult r = run_python(args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("['class \""), std::string::npos) << r.out;  // class names from model.ts
  if (have_onnx) {
    EXPECT_NE(r.out.find("['images'] ['logits']"), std::string::npos) << r.out;
  }

  // The fine-tuned weights come back into cnnkit.
  Model m = build_model(resolve_doc(doc));
  InitWeightsReport report = load_init_weights(m, dir.str("finetuned.pt"));
  EXPECT_TRUE(report.missing.empty() && report.unexpected.empty() && report.mismatched.empty()) << report.summary();

  // ... and the import by a 0-epoch run works as written, on a small MNIST test split.
  if (!have_mnist()) GTEST_SKIP() << "../shared/data/mnist not found";
  json mine = doc;
  mine["data"] = {{"source", "mnist"}, {"root", (shared_data() / "mnist").string()}, {"limit_train", 200},
                  {"limit_test", 200}};
  dir.write("my_model.json", mine.dump(2));
  ASSERT_FALSE(after.empty());
  run_shell_blocks(after, dir);
  EXPECT_TRUE(fs::exists(dir.str("runs/imported/last.pt")));
}
