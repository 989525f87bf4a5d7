#include "support/cli.h"
#include "support/tty.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace cnnkit::test {
namespace fs = std::filesystem;

namespace {
// Tests (and the cnnkit processes they start) keep their statistics cache (data/stats_cache.h)
// in the build tree, not in the user's ~/.cache.
const bool kHermeticCache = [] {
  const std::string dir = (fs::path(CNNKIT_BINARY).parent_path() / "test-cache").string();
  return setenv("CNNKIT_CACHE_DIR", dir.c_str(), /*overwrite=*/0) == 0;
}();

void set_child_env(const std::vector<std::string>& env) {
  bool lc_all = false;
  for (const auto& e : env) lc_all |= e.rfind("LC_ALL=", 0) == 0;
  if (!lc_all) setenv("LC_ALL", "C.UTF-8", 1);
  for (const auto& e : env) putenv(strdup(e.c_str()));
}

}  // namespace

CliResult run_cli_tty(const std::vector<std::string>& args, const std::vector<std::string>& env, bool stderr_too) {
  int master = -1, slave = -1;
  if (openpty(&master, &slave, nullptr, nullptr, nullptr) != 0) throw std::runtime_error("openpty failed");
  int err_pipe[2];
  if (pipe(err_pipe)) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(slave, 1);
    dup2(stderr_too ? slave : err_pipe[1], 2);
    for (int fd : {in, master, slave, err_pipe[0], err_pipe[1]}) close(fd);
    std::vector<std::string> all{CNNKIT_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    set_child_env(env);
    execv(CNNKIT_BINARY, argv.data());
    _exit(127);
  }
  close(slave);
  close(err_pipe[1]);
  CliResult r;
  bool out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open) {
    pollfd fds[2];
    int n = 0;
    if (out_open) fds[n++] = {master, POLLIN, 0};
    if (err_open) fds[n++] = {err_pipe[0], POLLIN, 0};
    if (poll(fds, n, -1) < 0) break;
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got <= 0) {  // a pty reports EIO once the child has closed it
        if (fds[i].fd == master) out_open = false;
        else err_open = false;
        continue;
      }
      (fds[i].fd == master ? r.out : r.err).append(buf, static_cast<std::size_t>(got));
    }
  }
  close(master);
  close(err_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::string clean;
  for (std::size_t i = 0; i < r.out.size(); ++i)
    if (!(r.out[i] == '\r' && i + 1 < r.out.size() && r.out[i + 1] == '\n')) clean += r.out[i];
  r.out = clean;
  return r;
}

CliResult run_cli(const std::vector<std::string>& args, const std::string& stdin_text,
                  const std::vector<std::string>& env) {
  std::vector<std::string> all{CNNKIT_BINARY};
  all.insert(all.end(), args.begin(), args.end());
  return run_command(all, stdin_text, env);
}

CliResult run_cli_in(const std::string& cwd, const std::vector<std::string>& args, const std::vector<std::string>& env,
                     const std::string& binary) {
  std::vector<std::string> all{binary.empty() ? std::string(CNNKIT_BINARY) : binary};
  all.insert(all.end(), args.begin(), args.end());
  return run_command(all, "", env, cwd);
}

CliResult run_command(const std::vector<std::string>& all, const std::string& stdin_text,
                      const std::vector<std::string>& env, const std::string& cwd) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe(in_pipe) || pipe(out_pipe) || pipe(err_pipe)) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
    std::vector<std::string> copy = all;
    std::vector<char*> argv;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    set_child_env(env);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  // Feed stdin without blocking on a full pipe: write in the poll loop.
  std::size_t written = 0;
  if (stdin_text.empty()) {
    close(in_pipe[1]);
    in_pipe[1] = -1;
  } else {
    fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
  }
  CliResult r;
  bool out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open) {
    pollfd fds[3];
    int n = 0;
    if (out_open) fds[n++] = {out_pipe[0], POLLIN, 0};
    if (err_open) fds[n++] = {err_pipe[0], POLLIN, 0};
    if (in_pipe[1] >= 0) fds[n++] = {in_pipe[1], POLLOUT, 0};
    if (poll(fds, n, -1) < 0) break;
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      if (fds[i].fd == in_pipe[1]) {
        ssize_t w = write(in_pipe[1], stdin_text.data() + written, stdin_text.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if (w < 0 || written == stdin_text.size()) {
          close(in_pipe[1]);
          in_pipe[1] = -1;
        }
        continue;
      }
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got <= 0) {
        if (fds[i].fd == out_pipe[0]) out_open = false;
        else err_open = false;
        continue;
      }
      (fds[i].fd == out_pipe[0] ? r.out : r.err).append(buf, static_cast<std::size_t>(got));
    }
  }
  if (in_pipe[1] >= 0) close(in_pipe[1]);
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

int spawn_cli(const std::vector<std::string>& args, const std::string& out_file, const std::string& err_file) {
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int out = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    std::vector<std::string> all{CNNKIT_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(CNNKIT_BINARY, argv.data());
    _exit(127);
  }
  return pid;
}

int wait_cli(int pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TempDir::TempDir(const std::string& tag) {
  std::random_device rd;
  path_ = fs::temp_directory_path() / (tag + "-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::str(const std::string& child) const {
  return child.empty() ? path_.string() : (path_ / child).string();
}

std::string TempDir::write(const std::string& name, const std::string& text) const {
  fs::path p = path_ / name;
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

ScopedCwd::ScopedCwd(const fs::path& dir) : previous_(fs::current_path()) { fs::current_path(dir); }

ScopedCwd::~ScopedCwd() {
  std::error_code ec;
  fs::current_path(previous_, ec);
}

std::string binary() { return CNNKIT_BINARY; }

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] == '{') lines.push_back(nlohmann::json::parse(line));
  return lines;
}

std::string source_dir() { return CNNKIT_SOURCE_DIR; }

std::string config_path(const std::string& name) { return source_dir() + "/configs/" + name; }

fs::path shared_data() {
  if (const char* env = std::getenv("CNNKIT_SHARED_DATA")) return env;
  return fs::path(CNNKIT_SOURCE_DIR) / ".." / "shared" / "data";
}

}  // namespace cnnkit::test
