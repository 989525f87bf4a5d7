#include "cnnkit/dist/local_launcher.h"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "cnnkit/core/error.h"
#include "cnnkit/dist/launch_env.h"
#include "cnnkit/dist/rendezvous.h"

namespace cnnkit::dist {
namespace {

using Clock = std::chrono::steady_clock;

// Blocks SIGINT, SIGTERM and SIGCHLD in this thread (and in threads it starts, such as the
// store's server thread) so that the launch loop collects them with sigtimedwait().
class BlockedSignals {
 public:
  BlockedSignals() {
    // An inherited SIGCHLD=SIG_IGN would let the kernel reap the workers behind our back.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &dfl, &old_chld_);
    sigemptyset(&set_);
    for (int s : {SIGINT, SIGTERM, SIGCHLD}) sigaddset(&set_, s);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
  }
  ~BlockedSignals() {
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    sigaction(SIGCHLD, &old_chld_, nullptr);
  }
  const sigset_t& set() const { return set_; }
  const sigset_t& old() const { return old_; }

 private:
  sigset_t set_, old_;
  struct sigaction old_chld_ {};
};

int status_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

bool is_interrupt_status(int code) { return code == 130 || code == 128 + SIGINT || code == 128 + SIGTERM; }

}  // namespace

LocalLaunchResult run_local_workers(const LocalLaunchOptions& options) {
  const int n = options.nproc;
  if (n < 1 || n > 1024) throw UsageError("--nproc " + std::to_string(n) + ": expected 1 to 1024");
  if (options.args.empty()) throw Error("local launcher: no program arguments (args[0] is required)");
  EnvMap env = current_environment();
  LaunchInfo outer = detect_launch(env);
  if (outer.launcher != Launcher::kNone) {
    throw UsageError("--nproc " + std::to_string(n) + ": this process already runs under " +
                     launcher_name(outer.launcher) + " (" + describe(outer) + "); use one launcher, not both");
  }

  BlockedSignals signals;
  c10d::TCPStoreOptions store_opts;
  store_opts.port = 0;  // any free port
  store_opts.isServer = true;
  store_opts.waitWorkers = false;
  c10::intrusive_ptr<c10d::TCPStore> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", store_opts);
  } catch (...) {
    throw Error("--nproc: cannot start the rendezvous store on 127.0.0.1: " +
                detail::clean_message(std::current_exception()));
  }
  LocalLaunchResult result;
  result.master_port = store->getPort();

  // Everything the children need is built before fork(): after it, only async-signal-safe calls.
  for (const char* var :
       {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", kLaunchedByVar,
        "GROUP_RANK", "TORCHELASTIC_USE_AGENT_STORE", "TORCHELASTIC_RESTART_COUNT", "TORCHELASTIC_RUN_ID"}) {
    env.erase(var);
  }
  for (const auto& [k, v] : options.extra_env) env[k] = v;
  env["WORLD_SIZE"] = std::to_string(n);
  env["LOCAL_WORLD_SIZE"] = std::to_string(n);
  env["MASTER_ADDR"] = "127.0.0.1";
  env["MASTER_PORT"] = std::to_string(result.master_port);
  env[kLaunchedByVar] = kLaunchedByNproc;
  std::vector<std::vector<std::string>> env_strings(n);
  std::vector<std::vector<char*>> envps(n);
  for (int r = 0; r < n; ++r) {
    env["RANK"] = env["LOCAL_RANK"] = std::to_string(r);
    for (const auto& [k, v] : env) env_strings[r].push_back(k + "=" + v);
    for (auto& s : env_strings[r]) envps[r].push_back(s.data());
    envps[r].push_back(nullptr);
  }
  std::vector<std::string> args = options.args;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string exe = options.executable;
  const std::string exec_error = "cnnkit: --nproc: cannot execute " + exe + "\n";

  result.workers.resize(n);
  std::vector<Clock::time_point> started(n);
  std::set<int> alive;
  auto kill_alive = [&](int sig) {
    for (int r : alive) kill(result.workers[r].pid, sig);
  };
  std::fflush(nullptr);
  const pid_t parent = getpid();
  for (int r = 0; r < n; ++r) {
    pid_t pid = fork();
    if (pid < 0) {
      int err = errno;
      kill_alive(SIGKILL);
      for (int q : alive) waitpid(result.workers[q].pid, nullptr, 0);
      throw Error("--nproc: cannot start worker " + std::to_string(r) + ": " + std::strerror(err));
    }
    if (pid == 0) {
      setpgid(0, 0);  // terminal signals reach the launcher only; it forwards them once
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(1);
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      sigaction(SIGINT, &dfl, nullptr);
      sigaction(SIGTERM, &dfl, nullptr);
      sigprocmask(SIG_SETMASK, &signals.old(), nullptr);
      execve(exe.c_str(), argv.data(), envps[r].data());
      ssize_t ignored = write(2, exec_error.data(), exec_error.size());
      (void)ignored;
      _exit(127);
    }
    result.workers[r].pid = pid;
    started[r] = Clock::now();
    alive.insert(r);
  }

  bool have_deadline = false;
  Clock::time_point kill_deadline;
  int first_code = 0;
  bool interrupted_stop = false;  // a worker stopped because of a forwarded interrupt
  while (!alive.empty()) {
    timespec wait_for{0, 100 * 1000 * 1000};
    siginfo_t info;
    int sig = sigtimedwait(&signals.set(), &info, &wait_for);
    if (sig == SIGINT || sig == SIGTERM) {
      result.interrupted = true;
      kill_alive(sig);
    }
    for (auto it = alive.begin(); it != alive.end();) {
      int r = *it, status = 0;
      pid_t done = waitpid(result.workers[r].pid, &status, WNOHANG);
      if (done < 0 && errno == ECHILD) {  // reaped elsewhere: its status is lost
        done = result.workers[r].pid;
        status = 1 << 8;
      }
      if (done != result.workers[r].pid) {
        ++it;
        continue;
      }
      it = alive.erase(it);
      int code = status_code(status);
      result.workers[r].status = code;
      result.workers[r].seconds = std::chrono::duration<double>(Clock::now() - started[r]).count();
      if (code == 0) continue;
      if (result.interrupted && is_interrupt_status(code)) {
        interrupted_stop = true;
        continue;
      }
      if (result.first_failed_rank < 0) {
        result.first_failed_rank = r;
        first_code = code;
        kill_alive(SIGTERM);
        have_deadline = true;
        kill_deadline = Clock::now() + options.kill_grace;
      }
    }
    if (have_deadline && Clock::now() >= kill_deadline) {
      kill_alive(SIGKILL);
      have_deadline = false;
    }
  }
  if (result.interrupted && interrupted_stop) {
    result.exit_code = 130;
  } else if (result.first_failed_rank >= 0) {
    result.exit_code = first_code;
  } else {
    result.exit_code = 0;
  }
  return result;
}

}  // namespace cnnkit::dist
