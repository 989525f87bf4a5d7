// `cnnkit train --nproc N`: start N worker processes of the same program on this machine.
//
// The launcher (this process) serves the c10d TCPStore on a free loopback port and starts each
// worker with `executable` and `args`, in its own process group, with the environment of this
// process plus RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE (= N), MASTER_ADDR=127.0.0.1,
// MASTER_PORT and CNNKIT_LAUNCHED_BY=nproc (detect_launch() then makes every worker a client of
// the launcher's store, like torchrun's agent store). Workers die with SIGTERM if the launcher
// dies (PR_SET_PDEATHSIG).
//
// While they run, SIGINT and SIGTERM received by the launcher are forwarded to every worker
// (a Ctrl-C in the terminal reaches only the launcher, whose process group the workers left,
// so each worker sees it exactly once). When a worker fails (non-zero exit or killed by a
// signal) the others get SIGTERM, then SIGKILL after `kill_grace`.
//
// Ensures: returns once every worker has ended. exit_code: 130 when the launcher forwarded an
// interrupt and a worker stopped with 130 or by that signal; otherwise the first non-zero
// worker status in order of exit (128 + signal for a killed worker); 0 when all succeeded.
#pragma once
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace cnnkit::dist {

struct LocalLaunchOptions {
  int nproc = 1;
  std::string executable = "/proc/self/exe";
  std::vector<std::string> args;  // argv of each worker, args[0] included (the program name)
  std::vector<std::pair<std::string, std::string>> extra_env;  // set in every worker
  std::chrono::milliseconds kill_grace = std::chrono::seconds(10);
};

struct WorkerOutcome {
  int pid = 0;
  int status = 0;      // exit code, or 128 + signal
  double seconds = 0;  // from start to exit
};

struct LocalLaunchResult {
  int exit_code = 0;
  int first_failed_rank = -1;          // -1 when none failed
  bool interrupted = false;            // the launcher received SIGINT/SIGTERM and forwarded it
  int master_port = 0;                 // the store's port
  std::vector<WorkerOutcome> workers;  // by rank
};

// Throws UsageError for nproc < 1 or when this process already runs under a launcher
// (RANK/WORLD_SIZE, Slurm or Open MPI variables), Error when the workers cannot be started.
LocalLaunchResult run_local_workers(const LocalLaunchOptions& options);

}  // namespace cnnkit::dist
