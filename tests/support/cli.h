// Test support: run the real cnnkit binary and capture exit code, stdout and stderr; make
// temporary folders; find the shared data.
#pragma once
#include <filesystem>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace cnnkit::test {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `cnnkit ARGS...` (no shell; args passed as is). `stdin_text` is fed to standard input.
CliResult run_cli(const std::vector<std::string>& args, const std::string& stdin_text = "",
                  const std::vector<std::string>& env = {});

// Runs `cnnkit ARGS...` in the folder `cwd`; `binary` "" is the built cnnkit, else e.g. an
// installed copy.
CliResult run_cli_in(const std::string& cwd, const std::vector<std::string>& args,
                     const std::vector<std::string>& env = {}, const std::string& binary = "");
// Runs any program (argv[0] looked up on the PATH when it has no '/'), in `cwd` unless empty,
// e.g. {"prlimit", "--fsize=1000", binary(), ...}.
CliResult run_command(const std::vector<std::string>& argv, const std::string& stdin_text = "",
                      const std::vector<std::string>& env = {}, const std::string& cwd = "");
std::string binary();  // the cnnkit binary under test

// Starts `cnnkit ARGS...` in the background with stdout/stderr sent to files; returns its pid.
int spawn_cli(const std::vector<std::string>& args, const std::string& out_file, const std::string& err_file);
// Waits for a spawned process; returns its exit code (128 + signal when killed).
int wait_cli(int pid);
std::string read_file(const std::string& path);

// A fresh empty folder under the system temp dir, removed when the object dies.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "cnnkit");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str(const std::string& child = "") const;
  // Writes `text` to path()/name and returns the full path.
  std::string write(const std::string& name, const std::string& text) const;

 private:
  std::filesystem::path path_;
};

// Changes the process's working directory for the object's lifetime (tests of relative paths).
class ScopedCwd {
 public:
  explicit ScopedCwd(const std::filesystem::path& dir);
  ~ScopedCwd();
  ScopedCwd(const ScopedCwd&) = delete;
  ScopedCwd& operator=(const ScopedCwd&) = delete;

 private:
  std::filesystem::path previous_;
};

// JSON objects, one per stdout line that holds one (other lines are skipped).
std::vector<nlohmann::json> json_lines(const std::string& out);

std::string source_dir();                // the repo root
std::string config_path(const std::string& name);  // configs/<name>
std::filesystem::path shared_data();     // ../shared/data (or $CNNKIT_SHARED_DATA)

}  // namespace cnnkit::test
