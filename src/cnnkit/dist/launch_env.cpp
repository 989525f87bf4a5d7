#include "cnnkit/dist/launch_env.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <optional>
#include <vector>

#include "cnnkit/core/error.h"

extern char** environ;

namespace cnnkit::dist {
namespace {

// Error messages name the launcher so that a mixed-up environment is easy to recognise.
class EnvReader {
 public:
  EnvReader(const EnvMap& env, Launcher launcher) : env_(env), launcher_(launcher) {}

  bool has(const std::string& name) const { return env_.count(name) != 0; }
  std::optional<std::string> get(const std::string& name) const {
    auto it = env_.find(name);
    if (it == env_.end()) return std::nullopt;
    return it->second;
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw UsageError(std::string("launch environment (") + launcher_name(launcher_) + "): " + what);
  }

  // A non-negative decimal integer that fits an int.
  int integer(const std::string& name) const {
    auto value = get(name);
    if (!value) fail(name + " is not set");
    const std::string& s = *value;
    bool digits = !s.empty() && s.size() <= 9;
    for (char c : s) digits = digits && c >= '0' && c <= '9';
    if (!digits) fail(name + "=" + quoted(s) + ": expected a non-negative integer");
    return std::stoi(s);
  }

  int integer_or(const std::string& name, int fallback) const { return has(name) ? integer(name) : fallback; }

  std::string required(const std::string& name, const std::string& hint) const {
    auto value = get(name);
    if (!value || value->empty()) fail(name + " is not set" + hint);
    return *value;
  }

  static std::string quoted(const std::string& s) { return "'" + s + "'"; }

 private:
  const EnvMap& env_;
  Launcher launcher_;
};

void check_ranks(const EnvReader& r, LaunchInfo& info, const std::string& rank_var, const std::string& size_var,
                 const std::string& local_rank_var, const std::string& local_size_var) {
  if (info.world_size < 1) r.fail(size_var + "=0: expected at least 1");
  if (info.rank >= info.world_size) {
    r.fail(rank_var + "=" + std::to_string(info.rank) + " must be below " + size_var + "=" +
           std::to_string(info.world_size));
  }
  if (info.local_world_size < 1) r.fail(local_size_var + "=0: expected at least 1");
  if (info.local_world_size > info.world_size) {
    r.fail(local_size_var + "=" + std::to_string(info.local_world_size) + " must not exceed " + size_var + "=" +
           std::to_string(info.world_size));
  }
  if (info.local_rank >= info.local_world_size) {
    r.fail(local_rank_var + "=" + std::to_string(info.local_rank) + " must be below " + local_size_var + "=" +
           std::to_string(info.local_world_size));
  }
}

void read_master(const EnvReader& r, LaunchInfo& info, const std::string& hint) {
  if (!info.distributed()) return;  // one rank needs no rendezvous
  info.master_addr = r.required("MASTER_ADDR", hint);
  info.master_port = r.integer_or("MASTER_PORT", -1);
  if (info.master_port == -1) r.fail("MASTER_PORT is not set" + hint);
  if (info.master_port < 1 || info.master_port > 65535) {
    r.fail("MASTER_PORT=" + std::to_string(info.master_port) + ": expected a port from 1 to 65535");
  }
}

LaunchInfo read_torchrun_style(const EnvMap& env) {
  const bool nproc = env.count(kLaunchedByVar) && env.at(kLaunchedByVar) == kLaunchedByNproc;
  const bool elastic = env.count("TORCHELASTIC_RUN_ID") || env.count("TORCHELASTIC_USE_AGENT_STORE") ||
                       env.count("TORCHELASTIC_RESTART_COUNT");
  LaunchInfo info;
  info.launcher = nproc ? Launcher::kNproc : elastic ? Launcher::kTorchrun : Launcher::kEnv;
  EnvReader r(env, info.launcher);
  if (!r.has("RANK")) r.fail("WORLD_SIZE is set but RANK is not");
  if (!r.has("WORLD_SIZE")) r.fail("RANK is set but WORLD_SIZE is not");
  info.rank = r.integer("RANK");
  info.world_size = r.integer("WORLD_SIZE");
  // Without LOCAL_* the launch is taken to be on one node (as PyTorch's env:// scripts assume);
  // the local values only choose the GPU and the default thread count.
  info.local_rank = r.integer_or("LOCAL_RANK", info.rank);
  info.local_world_size = r.integer_or("LOCAL_WORLD_SIZE", info.world_size);
  check_ranks(r, info, "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE");
  read_master(r, info, "");
  if (nproc) {
    info.agent_store = true;
    info.store_prefix = kNprocStorePrefix;
  } else if (r.get("TORCHELASTIC_USE_AGENT_STORE").value_or("") == "True") {
    info.agent_store = true;
    int attempt = r.integer_or("TORCHELASTIC_RESTART_COUNT", 0);
    info.store_prefix = "/worker/attempt_" + std::to_string(attempt);
  }
  return info;
}

LaunchInfo read_open_mpi(const EnvMap& env) {
  LaunchInfo info;
  info.launcher = Launcher::kOpenMpi;
  EnvReader r(env, info.launcher);
  if (!r.has("OMPI_COMM_WORLD_SIZE")) r.fail("OMPI_COMM_WORLD_RANK is set but OMPI_COMM_WORLD_SIZE is not");
  info.rank = r.integer("OMPI_COMM_WORLD_RANK");
  info.world_size = r.integer("OMPI_COMM_WORLD_SIZE");
  info.local_rank = r.integer_or("OMPI_COMM_WORLD_LOCAL_RANK", info.rank);
  info.local_world_size = r.integer_or("OMPI_COMM_WORLD_LOCAL_SIZE", info.world_size);
  check_ranks(r, info, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
              "OMPI_COMM_WORLD_LOCAL_SIZE");
  read_master(r, info, " (mpirun -x MASTER_ADDR=<host of rank 0> -x MASTER_PORT=<free port>)");
  return info;
}

// Slurm's compressed task counts: "2(x3),1" = three nodes with 2 tasks, then one with 1.
std::optional<int> slurm_tasks_on_node(const std::string& spec, int node) {
  auto number = [&](size_t& i) -> int {
    size_t start = i;
    while (i < spec.size() && i - start < 6 && spec[i] >= '0' && spec[i] <= '9') ++i;
    return i == start ? 0 : std::stoi(spec.substr(start, i - start));
  };
  size_t i = 0;
  int index = 0;
  while (i < spec.size()) {
    int count = number(i), repeat = 1;
    if (spec.compare(i, 2, "(x") == 0) {
      i += 2;
      repeat = number(i);
      if (i >= spec.size() || spec[i] != ')') return std::nullopt;
      ++i;
    }
    if (count < 1 || repeat < 1) return std::nullopt;
    if (i < spec.size() && spec[i++] != ',') return std::nullopt;
    if (node < index + repeat) return count;
    index += repeat;
  }
  return std::nullopt;
}

LaunchInfo read_slurm(const EnvMap& env) {
  LaunchInfo info;
  info.launcher = Launcher::kSlurm;
  EnvReader r(env, info.launcher);
  if (!r.has("SLURM_NTASKS")) r.fail("SLURM_PROCID is set but SLURM_NTASKS is not");
  info.rank = r.integer("SLURM_PROCID");
  info.world_size = r.integer("SLURM_NTASKS");
  info.local_rank = r.integer_or("SLURM_LOCALID", info.rank);
  int node = r.integer_or("SLURM_NODEID", 0);
  std::optional<int> local;
  for (const char* var : {"SLURM_STEP_TASKS_PER_NODE", "SLURM_TASKS_PER_NODE"}) {
    if (local || !r.has(var)) continue;
    local = slurm_tasks_on_node(*r.get(var), node);
    if (!local)
      r.fail(std::string(var) + "=" + EnvReader::quoted(*r.get(var)) +
             ": expected counts like 4 or 2(x3),1 covering SLURM_NODEID=" + std::to_string(node));
  }
  info.local_world_size = local ? *local : info.world_size;
  check_ranks(r, info, "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_STEP_TASKS_PER_NODE");
  read_master(r, info,
              " (export MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n1) and a free "
              "MASTER_PORT before srun)");
  return info;
}

}  // namespace

const char* launcher_name(Launcher launcher) {
  switch (launcher) {
    case Launcher::kNone:
      return "single process";
    case Launcher::kNproc:
      return "cnnkit --nproc";
    case Launcher::kTorchrun:
      return "torchrun";
    case Launcher::kEnv:
      return "env RANK/WORLD_SIZE";
    case Launcher::kOpenMpi:
      return "Open MPI";
    case Launcher::kSlurm:
      return "Slurm";
  }
  return "?";
}

LaunchInfo detect_launch(const EnvMap& env) {
  if (env.count("RANK") || env.count("WORLD_SIZE")) return read_torchrun_style(env);
  if (env.count("OMPI_COMM_WORLD_RANK") || env.count("OMPI_COMM_WORLD_SIZE")) {
    if (!env.count("OMPI_COMM_WORLD_RANK")) {
      EnvReader(env, Launcher::kOpenMpi).fail("OMPI_COMM_WORLD_SIZE is set but OMPI_COMM_WORLD_RANK is not");
    }
    return read_open_mpi(env);
  }
  if (env.count("SLURM_PROCID")) {
    // A batch script or a one-task srun also carries SLURM_PROCID: only several tasks make a
    // distributed launch.
    auto ntasks = env.find("SLURM_NTASKS");
    if (ntasks != env.end() && ntasks->second == "1") return LaunchInfo{};
    return read_slurm(env);
  }
  return LaunchInfo{};
}

EnvMap current_environment() {
  EnvMap env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

std::string describe(const LaunchInfo& info) {
  if (!info.distributed()) return std::string("rank 0 of 1 (") + launcher_name(info.launcher) + ")";
  std::string s = "rank " + std::to_string(info.rank) + " of " + std::to_string(info.world_size) + " (local " +
                  std::to_string(info.local_rank) + " of " + std::to_string(info.local_world_size) + ", " +
                  launcher_name(info.launcher) + ", store " + info.master_addr + ":" + std::to_string(info.master_port);
  if (info.agent_store) s += " served by the launcher under " + info.store_prefix;
  return s + ")";
}

}  // namespace cnnkit::dist
