// The installed tool: `cmake --install` into a staging prefix runs from anywhere with bare
// config names, ships the man page and completion; the Debian package holds the same files and
// depends on the Debian packages of the libraries the binary links.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "support/cli.h"

using namespace cnnkit::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

bool on_path(const std::string& program) { return run_command({"sh", "-c", "command -v " + program}).exit_code == 0; }

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST(Install, StagedPrefixRunsWithBareConfigNamesFromAnotherDirectory) {
  TempDir tmp{"cnnkit-install"};
  const fs::path prefix = tmp.path() / "prefix";
  auto inst = run_command({CNNKIT_CMAKE_COMMAND, "--install", CNNKIT_BUILD_DIR, "--prefix", prefix.string()});
  ASSERT_EQ(inst.exit_code, 0) << inst.out << inst.err;
  for (const char* f : {"bin/cnnkit", "share/cnnkit/configs/mnist.json", "share/cnnkit/configs/cifar.json",
                        "share/doc/cnnkit/README.md", "share/doc/cnnkit/architecture.md",
                        "share/bash-completion/completions/cnnkit"})
    EXPECT_TRUE(fs::exists(prefix / f)) << f;
  const std::string cnnkit = (prefix / "bin" / "cnnkit").string();
  fs::create_directories(tmp.path() / "elsewhere");
  const std::string elsewhere = tmp.str("elsewhere");

  auto s = run_cli_in(elsewhere, {"summary", "mnist", "--json"}, {}, cnnkit);
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(json::parse(s.out)["total_params"], 113162);
  auto c = run_cli_in(elsewhere, {"summary", "--config", "cifar.json"}, {}, cnnkit);
  EXPECT_EQ(c.exit_code, 0) << c.err;

  const std::string configs_dir = (prefix / "share" / "cnnkit" / "configs").string();
  auto list = run_cli_in(elsewhere, {"configs"}, {}, cnnkit);
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_EQ(list.out.rfind(configs_dir + "\n", 0), 0u) << list.out;
  EXPECT_TRUE(contains(list.out, "\n  mnist ")) << list.out;
  EXPECT_TRUE(contains(list.out, " The seed MNIST CNN: three conv/pool/dropout stages")) << list.out;

  auto missing = run_cli_in(elsewhere, {"summary", "nope"}, {}, cnnkit);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(contains(missing.err, configs_dir + "/nope.json")) << missing.err;

  // The installed completion is the one the binary prints.
  auto printed = run_cli_in(elsewhere, {"completion", "bash"}, {}, cnnkit);
  EXPECT_EQ(read_file((prefix / "share/bash-completion/completions/cnnkit").string()), printed.out);

  const fs::path man = prefix / "share" / "man" / "man1" / "cnnkit.1.gz";
  if (!fs::exists(man)) GTEST_SKIP() << "no man page: help2man was not found when cnnkit was configured";
  auto page = run_command({"gzip", "-dc", man.string()});
  ASSERT_EQ(page.exit_code, 0) << page.err;
  EXPECT_NE(page.out.find(".TH CNNKIT \"1\""), std::string::npos) << page.out.substr(0, 400);
  for (const char* s : {"featuremap", "\\-\\-device", "CONFIG NAMES", "CNNKIT_DATA"})
    EXPECT_TRUE(contains(page.out, s)) << "man page lacks " << s;
}

TEST(Install, DebianPackageHoldsTheFilesAndNamesItsDependencies) {
  for (const char* tool : {"dpkg-deb", "dpkg-shlibdeps", "file"})
    if (!on_path(tool)) GTEST_SKIP() << tool << " not found: the .deb test needs dpkg-dev and file (scripts/install-deps.sh)";
  TempDir tmp{"cnnkit-deb"};
  auto pack = run_command({CNNKIT_CPACK_COMMAND, "-G", "DEB", "--config", std::string(CNNKIT_BUILD_DIR) + "/CPackConfig.cmake",
                           "-B", tmp.str()},
                          "", {}, tmp.str());
  ASSERT_EQ(pack.exit_code, 0) << pack.out << pack.err;
  const std::string arch = run_command({"dpkg", "--print-architecture"}).out;
  const fs::path deb = tmp.path() / ("cnnkit_" CNNKIT_VERSION "_" + arch.substr(0, arch.find('\n')) + ".deb");
  ASSERT_TRUE(fs::exists(deb)) << pack.out;

  auto info = run_command({"dpkg-deb", "--info", deb.string()});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_TRUE(contains(info.out, " Package: cnnkit\n")) << info.out;
  EXPECT_TRUE(contains(info.out, " Version: " CNNKIT_VERSION "\n")) << info.out;
  const auto at = info.out.find(" Depends: ");
  ASSERT_NE(at, std::string::npos) << info.out;
  const std::string depends = info.out.substr(at, info.out.find('\n', at) - at);
  // Every package that ships a library the binary links directly (dpkg -S of its NEEDED
  // entries), and OpenBLAS.
  auto needed = run_command({"sh", "-c",
                             "ldd '" CNNKIT_BINARY "' | awk '/=> \\//{print $3}' | while read -r lib; do "
                             "objdump -p '" CNNKIT_BINARY "' | grep -q \"NEEDED *$(basename \"$lib\")$\" && "
                             "{ dpkg -S \"$lib\" || dpkg -S \"$(readlink -f \"$lib\")\"; } 2>/dev/null | cut -d: -f1; "
                             "done | sort -u"});
  ASSERT_EQ(needed.exit_code, 0) << needed.err;
  int checked = 0;
  std::istringstream packages(needed.out);
  for (std::string p; std::getline(packages, p);) {
    if (p.empty()) continue;
    EXPECT_TRUE(contains(depends, p)) << p << " (ships a library cnnkit links) is not in " << depends;
    ++checked;
  }
  EXPECT_GT(checked, 3) << "the binary's libraries were not found in any Debian package:\n" << needed.out;
  EXPECT_TRUE(contains(depends, "libopenblas0-openmp")) << depends;
  EXPECT_TRUE(contains(info.out, " Suggests: python3-torch, python3-onnx\n")) << info.out;  // export --format onnx

  auto contents = run_command({"dpkg-deb", "--contents", deb.string()});
  ASSERT_EQ(contents.exit_code, 0) << contents.err;
  for (const char* f : {"./usr/bin/cnnkit", "./usr/share/cnnkit/configs/mnist.json", "./usr/share/doc/cnnkit/README.md",
                        "./usr/share/bash-completion/completions/cnnkit", "./usr/share/man/man1/cnnkit.1.gz"})
    EXPECT_TRUE(contains(contents.out, std::string(f) + "\n")) << f << " not in\n" << contents.out;
}
