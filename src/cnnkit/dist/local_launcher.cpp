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

// What every worker execs, built before fork(): after it, only async-signal-safe calls.
struct WorkerExec {
  std::string exe;
  std::vector<std::string> args;
  std::vector<char*> argv;
  std::vector<std::vector<std::string>> env_strings;  // by rank
  std::vector<std::vector<char*>> envps;              // by rank
  std::string exec_error;
};

void check_launchable(const LocalLaunchOptions& options, const EnvMap& env) {
  const int n = options.nproc;
  if (n < 1 || n > 1024) throw UsageError("--nproc " + std::to_string(n) + ": expected 1 to 1024");
  if (options.args.empty()) throw Error("local launcher: no program arguments (args[0] is required)");
  LaunchInfo outer = detect_launch(env);
  if (outer.launcher != Launcher::kNone) {
    throw UsageError("--nproc " + std::to_string(n) + ": this process already runs under " +
                     launcher_name(outer.launcher) + " (" + describe(outer) + "); use one launcher, not both");
  }
}

c10::intrusive_ptr<c10d::TCPStore> start_store() {
  c10d::TCPStoreOptions store_opts;
  store_opts.port = 0;  // any free port
  store_opts.isServer = true;
  store_opts.waitWorkers = false;
  try {
    return c10::make_intrusive<c10d::TCPStore>("127.0.0.1", store_opts);
  } catch (...) {
    throw Error("--nproc: cannot start the rendezvous store on 127.0.0.1: " +
                detail::clean_message(std::current_exception()));
  }
}

WorkerExec prepare_exec(const LocalLaunchOptions& options, EnvMap env, int master_port) {
  const int n = options.nproc;
  for (const char* var :
       {"RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT", kLaunchedByVar,
        "GROUP_RANK", "TORCHELASTIC_USE_AGENT_STORE", "TORCHELASTIC_RESTART_COUNT", "TORCHELASTIC_RUN_ID"}) {
    env.erase(var);
  }
  for (const auto& [k, v] : options.extra_env) env[k] = v;
  env["WORLD_SIZE"] = std::to_string(n);
  env["LOCAL_WORLD_SIZE"] = std::to_string(n);
  env["MASTER_ADDR"] = "127.0.0.1";
  env["MASTER_PORT"] = std::to_string(master_port);
  env[kLaunchedByVar] = kLaunchedByNproc;
  WorkerExec w;
  w.env_strings.resize(n);
  w.envps.resize(n);
  for (int r = 0; r < n; ++r) {
    env["RANK"] = env["LOCAL_RANK"] = std::to_string(r);
    for (const auto& [k, v] : env) w.env_strings[r].push_back(k + "=" + v);
    for (auto& s : w.env_strings[r]) w.envps[r].push_back(s.data());
    w.envps[r].push_back(nullptr);
  }
  w.args = options.args;
  for (auto& a : w.args) w.argv.push_back(a.data());
  w.argv.push_back(nullptr);
  w.exe = options.executable;
  w.exec_error = "cnnkit: --nproc: cannot execute " + w.exe + "\n";
  return w;
}

// In the child, after fork(): async-signal-safe calls only.
[[noreturn]] void exec_worker(WorkerExec& w, int rank, pid_t parent, const BlockedSignals& signals) {
  setpgid(0, 0);  // terminal signals reach the launcher only; it forwards them once
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(1);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigaction(SIGINT, &dfl, nullptr);
  sigaction(SIGTERM, &dfl, nullptr);
  sigprocmask(SIG_SETMASK, &signals.old(), nullptr);
  execve(w.exe.c_str(), w.argv.data(), w.envps[rank].data());
  ssize_t ignored = write(2, w.exec_error.data(), w.exec_error.size());
  (void)ignored;
  _exit(127);
}

// The running workers and their outcomes, while the launcher supervises them.
class Workers {
 public:
  Workers(LocalLaunchResult& result, const LocalLaunchOptions& options) : result_(result), options_(options) {
    result_.workers.resize(options.nproc);
    started_.resize(options.nproc);
  }

  void start(WorkerExec& w, const BlockedSignals& signals) {
    std::fflush(nullptr);
    const pid_t parent = getpid();
    for (int r = 0; r < options_.nproc; ++r) {
      pid_t pid = fork();
      if (pid < 0) {
        int err = errno;
        kill_alive(SIGKILL);
        for (int q : alive_) waitpid(result_.workers[q].pid, nullptr, 0);
        throw Error("--nproc: cannot start worker " + std::to_string(r) + ": " + std::strerror(err));
      }
      if (pid == 0) exec_worker(w, r, parent, signals);
      result_.workers[r].pid = pid;
      started_[r] = Clock::now();
      alive_.insert(r);
    }
  }

  // Forwards interrupts, reaps workers, stops the others when one fails; returns when all ended.
  void supervise(const BlockedSignals& signals) {
    while (!alive_.empty()) {
      timespec wait_for{0, 100 * 1000 * 1000};
      siginfo_t info;
      int sig = sigtimedwait(&signals.set(), &info, &wait_for);
      if (sig == SIGINT || sig == SIGTERM) {
        result_.interrupted = true;
        kill_alive(sig);
      }
      reap();
      if (have_deadline_ && Clock::now() >= kill_deadline_) {
        kill_alive(SIGKILL);
        have_deadline_ = false;
      }
    }
    if (result_.interrupted && interrupted_stop_) {
      result_.exit_code = 130;
    } else {
      result_.exit_code = result_.first_failed_rank >= 0 ? first_code_ : 0;
    }
  }

 private:
  void kill_alive(int sig) {
    for (int r : alive_) kill(result_.workers[r].pid, sig);
  }

  void reap() {
    for (auto it = alive_.begin(); it != alive_.end();) {
      int r = *it, status = 0;
      pid_t done = waitpid(result_.workers[r].pid, &status, WNOHANG);
      if (done < 0 && errno == ECHILD) {  // reaped elsewhere: its status is lost
        done = result_.workers[r].pid;
        status = 1 << 8;
      }
      if (done != result_.workers[r].pid) {
        ++it;
        continue;
      }
      it = alive_.erase(it);
      ended(r, status_code(status));
    }
  }

  void ended(int r, int code) {
    result_.workers[r].status = code;
    result_.workers[r].seconds = std::chrono::duration<double>(Clock::now() - started_[r]).count();
    if (code == 0) return;
    if (result_.interrupted && is_interrupt_status(code)) {
      interrupted_stop_ = true;  // a worker stopped because of a forwarded interrupt
      return;
    }
    if (result_.first_failed_rank < 0) {
      result_.first_failed_rank = r;
      first_code_ = code;
      // A cnnkit worker exits 130 after a stop every rank agreed on (one of them got a signal):
      // the others are stopping at the same step and saving. A signal now would be their second,
      // which exits at once.
      if (code == 130) return;
      kill_alive(SIGTERM);
      have_deadline_ = true;
      kill_deadline_ = Clock::now() + options_.kill_grace;
    }
  }

  LocalLaunchResult& result_;
  const LocalLaunchOptions& options_;
  std::vector<Clock::time_point> started_;
  std::set<int> alive_;
  bool have_deadline_ = false;
  Clock::time_point kill_deadline_;
  int first_code_ = 0;
  bool interrupted_stop_ = false;
};

}  // namespace

LocalLaunchResult run_local_workers(const LocalLaunchOptions& options) {
  EnvMap env = current_environment();
  check_launchable(options, env);
  BlockedSignals signals;
  auto store = start_store();
  LocalLaunchResult result;
  result.master_port = store->getPort();
  WorkerExec exec = prepare_exec(options, std::move(env), result.master_port);
  Workers workers(result, options);
  workers.start(exec, signals);
  workers.supervise(signals);
  return result;
}

}  // namespace cnnkit::dist
