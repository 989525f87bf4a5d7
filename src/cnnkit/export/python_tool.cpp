#include "cnnkit/export/python_tool.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <mutex>

#include "cnnkit/export/export_error.h"

namespace cnnkit {

ProcessResult run_process(const std::vector<std::string>& argv) {
  ProcessResult r;
  if (argv.empty()) return r;
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0) throw ExportError("cannot start " + argv[0] + ": pipe failed");
  if (pipe(err_pipe) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    throw ExportError("cannot start " + argv[0] + ": pipe failed");
  }
  const pid_t pid = fork();
  if (pid < 0) throw ExportError("cannot start " + argv[0] + ": fork failed");
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    for (int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  bool out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open) {
    pollfd fds[2];
    int n = 0;
    if (out_open) fds[n++] = {out_pipe[0], POLLIN, 0};
    if (err_open) fds[n++] = {err_pipe[0], POLLIN, 0};
    if (poll(fds, n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (!fds[i].revents) continue;
      const ssize_t got = read(fds[i].fd, buf, sizeof buf);
      const bool is_out = fds[i].fd == out_pipe[0];
      if (got <= 0) {
        (is_out ? out_open : err_open) = false;
        continue;
      }
      (is_out ? r.out : r.err).append(buf, static_cast<std::size_t>(got));
    }
  }
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status))
    r.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    r.exit_code = 128 + WTERMSIG(status);
  return r;
}

PythonSearch find_python_with(const std::string& module) {
  static std::mutex mutex;
  static std::map<std::string, PythonSearch> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(module);
  if (it != cache.end()) return it->second;

  std::vector<std::string> candidates;
  const char* env = std::getenv("CNNKIT_PYTHON");
  if (env && *env)
    candidates = {env};
  else
    candidates = {"python3", "/usr/bin/python3"};
  const std::string probe = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec(" + std::string("'") +
                            module + "'" + ") else 3)";
  PythonSearch found;
  for (const auto& py : candidates) {
    const ProcessResult r = run_process({py, "-c", probe});
    if (r.exit_code == 0) {
      found.python = py;
      break;
    }
    if (!found.tried.empty()) found.tried += ", ";
    found.tried += (env && *env ? "$CNNKIT_PYTHON=" : "") + py +
                   (r.exit_code == 127 ? " (not found)"
                    : r.exit_code == 3 ? " (no module " + module + ")"
                                       : " (fails to start)");
  }
  cache[module] = found;
  return found;
}

}  // namespace cnnkit
