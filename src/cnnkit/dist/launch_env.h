// Which launcher started this process, read from its environment. A pure function of the
// environment map, so every launcher and every bad environment has a unit test.
//
// Detection order (the first that applies wins):
//   1. `cnnkit train --nproc N` workers: CNNKIT_LAUNCHED_BY=nproc plus the torchrun variables
//      below; the launching parent serves the rendezvous store, every rank is a client.
//   2. torchrun / any env:// launch: RANK and WORLD_SIZE (LOCAL_RANK and LOCAL_WORLD_SIZE,
//      default: the same as RANK and WORLD_SIZE, i.e. one node), MASTER_ADDR, MASTER_PORT.
//      TORCHELASTIC_USE_AGENT_STORE=True: torchrun's agent already serves the store on
//      MASTER_PORT, so every rank connects as a client under the key prefix
//      /worker/attempt_<TORCHELASTIC_RESTART_COUNT>; otherwise rank 0 hosts the store.
//   3. Open MPI's mpirun: OMPI_COMM_WORLD_RANK/SIZE/LOCAL_RANK/LOCAL_SIZE, with MASTER_ADDR and
//      MASTER_PORT exported by the user (no MPI library is used). Rank 0 hosts the store.
//   4. Slurm srun: SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID (local world size from
//      SLURM_STEP_TASKS_PER_NODE / SLURM_TASKS_PER_NODE and SLURM_NODEID), with MASTER_ADDR and
//      MASTER_PORT exported by the user. Rank 0 hosts the store. SLURM_NTASKS=1 is not
//      distributed (a plain `srun cnnkit ...` or a batch script).
//   5. Otherwise: not distributed (rank 0 of 1).
// A launch with a world size of 1 is valid and reported as such; callers use distributed()
// to decide whether to create a dist::Context at all.
//
// Every inconsistency is a UsageError (exit 2) naming the variable, its value and the launcher:
// WORLD_SIZE without RANK (and the reverse), non-numeric or negative numbers, a rank not below
// the world size, a local rank not below the local world size, a missing MASTER_ADDR or
// MASTER_PORT, a port outside 1..65535.
#pragma once
#include <map>
#include <string>

namespace cnnkit::dist {

using EnvMap = std::map<std::string, std::string>;

enum class Launcher { kNone, kNproc, kTorchrun, kEnv, kOpenMpi, kSlurm };

// "single process", "cnnkit --nproc", "torchrun", "env (RANK/WORLD_SIZE)", "Open MPI", "Slurm".
const char* launcher_name(Launcher launcher);

struct LaunchInfo {
  Launcher launcher = Launcher::kNone;
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  std::string master_addr;  // empty when not distributed
  int master_port = 0;
  // True when a launcher (torchrun's agent, the --nproc parent) serves the TCPStore and every
  // rank, rank 0 included, must connect as a client under store_prefix.
  bool agent_store = false;
  std::string store_prefix;  // e.g. "/worker/attempt_0"; empty when rank 0 hosts the store

  bool distributed() const { return world_size > 1; }
  bool is_root() const { return rank == 0; }
};

// Reads the environment described above. Throws UsageError for inconsistent environments.
LaunchInfo detect_launch(const EnvMap& env);

// The environment of this process, as a map.
EnvMap current_environment();

// "rank 1 of 4 (local 1 of 2, torchrun, store 10.0.0.1:29500)" for logs.
std::string describe(const LaunchInfo& info);

// The variable CNNKIT_LAUNCHED_BY that marks --nproc workers, and its value.
inline constexpr const char* kLaunchedByVar = "CNNKIT_LAUNCHED_BY";
inline constexpr const char* kLaunchedByNproc = "nproc";
inline constexpr const char* kNprocStorePrefix = "/cnnkit/nproc";

}  // namespace cnnkit::dist
