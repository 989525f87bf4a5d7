#include <gtest/gtest.h>

#include "cnnkit/core/error.h"
#include "cnnkit/dist/launch_env.h"

using namespace cnnkit;
using namespace cnnkit::dist;

namespace {

const EnvMap kMaster{{"MASTER_ADDR", "10.0.0.1"}, {"MASTER_PORT", "29500"}};

EnvMap with(EnvMap env, const EnvMap& more) {
  for (const auto& [k, v] : more) env[k] = v;
  return env;
}

// The UsageError message of detect_launch(env), or "" when it succeeds.
std::string usage_error(const EnvMap& env) {
  try {
    detect_launch(env);
  } catch (const UsageError& e) {
    EXPECT_EQ(e.exit_code(), 2);
    std::string msg = e.what();
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    return msg;
  }
  return "";
}

}  // namespace

TEST(LaunchEnv, NothingSetIsOneProcess) {
  auto info = detect_launch({{"PATH", "/bin"}, {"MASTER_ADDR", "x"}});
  EXPECT_EQ(info.launcher, Launcher::kNone);
  EXPECT_FALSE(info.distributed());
  EXPECT_EQ(info.rank, 0);
  EXPECT_EQ(info.world_size, 1);
  EXPECT_EQ(describe(info), "rank 0 of 1 (single process)");
}

TEST(LaunchEnv, TorchrunWithAgentStoreConnectsUnderTheAttemptPrefix) {
  auto info = detect_launch(with(kMaster, {{"RANK", "3"},
                                           {"WORLD_SIZE", "8"},
                                           {"LOCAL_RANK", "1"},
                                           {"LOCAL_WORLD_SIZE", "2"},
                                           {"GROUP_RANK", "1"},
                                           {"TORCHELASTIC_RUN_ID", "none"},
                                           {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                                           {"TORCHELASTIC_RESTART_COUNT", "2"}}));
  EXPECT_EQ(info.launcher, Launcher::kTorchrun);
  EXPECT_EQ(info.rank, 3);
  EXPECT_EQ(info.world_size, 8);
  EXPECT_EQ(info.local_rank, 1);
  EXPECT_EQ(info.local_world_size, 2);
  EXPECT_EQ(info.master_addr, "10.0.0.1");
  EXPECT_EQ(info.master_port, 29500);
  EXPECT_TRUE(info.agent_store);
  EXPECT_EQ(info.store_prefix, "/worker/attempt_2");
  EXPECT_TRUE(info.distributed());
  EXPECT_FALSE(info.is_root());
}

TEST(LaunchEnv, TorchrunStandaloneOrC10dRendezvousLetsRankZeroHost) {
  auto info = detect_launch(with(kMaster, {{"RANK", "0"},
                                           {"WORLD_SIZE", "2"},
                                           {"LOCAL_RANK", "0"},
                                           {"LOCAL_WORLD_SIZE", "2"},
                                           {"TORCHELASTIC_RUN_ID", "abc"},
                                           {"TORCHELASTIC_USE_AGENT_STORE", "False"},
                                           {"TORCHELASTIC_RESTART_COUNT", "0"}}));
  EXPECT_EQ(info.launcher, Launcher::kTorchrun);
  EXPECT_FALSE(info.agent_store);
  EXPECT_EQ(info.store_prefix, "");
}

TEST(LaunchEnv, PlainEnvLaunchDefaultsLocalValuesToOneNode) {
  auto info = detect_launch(with(kMaster, {{"RANK", "1"}, {"WORLD_SIZE", "4"}}));
  EXPECT_EQ(info.launcher, Launcher::kEnv);
  EXPECT_EQ(info.local_rank, 1);
  EXPECT_EQ(info.local_world_size, 4);
  EXPECT_FALSE(info.agent_store);
}

TEST(LaunchEnv, NprocWorkersAreClientsOfTheLauncherStore) {
  auto info = detect_launch({{"RANK", "1"},
                             {"WORLD_SIZE", "2"},
                             {"LOCAL_RANK", "1"},
                             {"LOCAL_WORLD_SIZE", "2"},
                             {"MASTER_ADDR", "127.0.0.1"},
                             {"MASTER_PORT", "40000"},
                             {kLaunchedByVar, kLaunchedByNproc}});
  EXPECT_EQ(info.launcher, Launcher::kNproc);
  EXPECT_TRUE(info.agent_store);
  EXPECT_EQ(info.store_prefix, kNprocStorePrefix);
  EXPECT_EQ(describe(info),
            "rank 1 of 2 (local 1 of 2, cnnkit --nproc, store 127.0.0.1:40000 served by the launcher under "
            "/cnnkit/nproc)");
}

TEST(LaunchEnv, WorldSizeOneNeedsNoMaster) {
  auto info = detect_launch({{"RANK", "0"}, {"WORLD_SIZE", "1"}});
  EXPECT_EQ(info.launcher, Launcher::kEnv);
  EXPECT_FALSE(info.distributed());
}

TEST(LaunchEnv, Slurm) {
  auto info = detect_launch(with(kMaster, {{"SLURM_PROCID", "5"},
                                           {"SLURM_NTASKS", "6"},
                                           {"SLURM_LOCALID", "0"},
                                           {"SLURM_NODEID", "2"},
                                           {"SLURM_STEP_TASKS_PER_NODE", "2(x2),1"},
                                           {"SLURM_TASKS_PER_NODE", "9"}}));
  EXPECT_EQ(info.launcher, Launcher::kSlurm);
  EXPECT_EQ(info.rank, 5);
  EXPECT_EQ(info.world_size, 6);
  EXPECT_EQ(info.local_rank, 0);
  EXPECT_EQ(info.local_world_size, 1);  // node 2 is the one with a single task
  EXPECT_FALSE(info.agent_store);
  auto node1 = detect_launch(with(kMaster, {{"SLURM_PROCID", "3"},
                                            {"SLURM_NTASKS", "5"},
                                            {"SLURM_LOCALID", "1"},
                                            {"SLURM_NODEID", "1"},
                                            {"SLURM_TASKS_PER_NODE", "2(x2),1"}}));
  EXPECT_EQ(node1.local_world_size, 2);
}

TEST(LaunchEnv, SlurmWithOneTaskOrABatchScriptIsNotDistributed) {
  auto info = detect_launch({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}, {"SLURM_LOCALID", "0"}});
  EXPECT_EQ(info.launcher, Launcher::kNone);
  EXPECT_FALSE(info.distributed());
}

TEST(LaunchEnv, OpenMpi) {
  auto info = detect_launch(with(kMaster, {{"OMPI_COMM_WORLD_RANK", "2"},
                                           {"OMPI_COMM_WORLD_SIZE", "4"},
                                           {"OMPI_COMM_WORLD_LOCAL_RANK", "0"},
                                           {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"},
                                           // mpirun under Slurm: Open MPI's variables win
                                           {"SLURM_PROCID", "0"},
                                           {"SLURM_NTASKS", "4"}}));
  EXPECT_EQ(info.launcher, Launcher::kOpenMpi);
  EXPECT_EQ(info.rank, 2);
  EXPECT_EQ(info.world_size, 4);
  EXPECT_EQ(info.local_rank, 0);
  EXPECT_EQ(info.local_world_size, 2);
}

TEST(LaunchEnv, TorchrunVariablesWinOverSlurm) {
  auto info =
      detect_launch(with(kMaster, {{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}}));
  EXPECT_EQ(info.launcher, Launcher::kEnv);
  EXPECT_EQ(info.rank, 1);
}

TEST(LaunchEnv, WorldSizeWithoutRank) {
  EXPECT_EQ(usage_error(with(kMaster, {{"WORLD_SIZE", "2"}})),
            "launch environment (env RANK/WORLD_SIZE): WORLD_SIZE is set but RANK is not");
  EXPECT_EQ(usage_error(with(kMaster, {{"RANK", "0"}})),
            "launch environment (env RANK/WORLD_SIZE): RANK is set but WORLD_SIZE is not");
}

TEST(LaunchEnv, RankNotBelowWorldSize) {
  EXPECT_EQ(usage_error(with(kMaster, {{"RANK", "2"}, {"WORLD_SIZE", "2"}})),
            "launch environment (env RANK/WORLD_SIZE): RANK=2 must be below WORLD_SIZE=2");
  EXPECT_EQ(usage_error(with(kMaster, {{"RANK", "0"}, {"WORLD_SIZE", "0"}})),
            "launch environment (env RANK/WORLD_SIZE): WORLD_SIZE=0: expected at least 1");
  EXPECT_EQ(usage_error(with(kMaster, {{"SLURM_PROCID", "4"}, {"SLURM_NTASKS", "4"}})),
            "launch environment (Slurm): SLURM_PROCID=4 must be below SLURM_NTASKS=4");
  EXPECT_EQ(usage_error(with(kMaster, {{"OMPI_COMM_WORLD_RANK", "7"}, {"OMPI_COMM_WORLD_SIZE", "2"}})),
            "launch environment (Open MPI): OMPI_COMM_WORLD_RANK=7 must be below OMPI_COMM_WORLD_SIZE=2");
}

TEST(LaunchEnv, LocalRankNotBelowLocalWorldSize) {
  EXPECT_EQ(
      usage_error(with(kMaster, {{"RANK", "1"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "2"}, {"LOCAL_WORLD_SIZE", "2"}})),
      "launch environment (env RANK/WORLD_SIZE): LOCAL_RANK=2 must be below LOCAL_WORLD_SIZE=2");
  EXPECT_EQ(
      usage_error(with(kMaster, {{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "0"}, {"LOCAL_WORLD_SIZE", "4"}})),
      "launch environment (env RANK/WORLD_SIZE): LOCAL_WORLD_SIZE=4 must not exceed WORLD_SIZE=2");
}

TEST(LaunchEnv, NonNumericValues) {
  for (const char* bad : {"one", "-1", "1.5", "", " 1", "99999999999"}) {
    EXPECT_EQ(
        usage_error(with(kMaster, {{"RANK", bad}, {"WORLD_SIZE", "2"}})),
        std::string("launch environment (env RANK/WORLD_SIZE): RANK='") + bad + "': expected a non-negative integer");
  }
  EXPECT_EQ(usage_error({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "http"}}),
            "launch environment (env RANK/WORLD_SIZE): MASTER_PORT='http': expected a non-negative integer");
  EXPECT_EQ(usage_error(with(kMaster, {{"SLURM_PROCID", "x"}, {"SLURM_NTASKS", "2"}})),
            "launch environment (Slurm): SLURM_PROCID='x': expected a non-negative integer");
  EXPECT_EQ(usage_error(with(kMaster, {{"RANK", "0"},
                                       {"WORLD_SIZE", "2"},
                                       {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                                       {"TORCHELASTIC_RESTART_COUNT", "first"}})),
            "launch environment (torchrun): TORCHELASTIC_RESTART_COUNT='first': expected a non-negative integer");
}

TEST(LaunchEnv, MissingOrBadMaster) {
  EXPECT_EQ(usage_error({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "29500"}}),
            "launch environment (env RANK/WORLD_SIZE): MASTER_ADDR is not set");
  EXPECT_EQ(usage_error({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", ""}, {"MASTER_PORT", "29500"}}),
            "launch environment (env RANK/WORLD_SIZE): MASTER_ADDR is not set");
  EXPECT_EQ(usage_error({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}),
            "launch environment (env RANK/WORLD_SIZE): MASTER_PORT is not set");
  EXPECT_EQ(usage_error({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}}),
            "launch environment (env RANK/WORLD_SIZE): MASTER_PORT=70000: expected a port from 1 to 65535");
  EXPECT_EQ(usage_error({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "0"}}),
            "launch environment (env RANK/WORLD_SIZE): MASTER_PORT=0: expected a port from 1 to 65535");
  std::string slurm = usage_error({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}});
  EXPECT_EQ(slurm.rfind("launch environment (Slurm): MASTER_ADDR is not set (export MASTER_ADDR=", 0), 0u) << slurm;
  std::string mpi = usage_error({{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}});
  EXPECT_EQ(mpi.rfind("launch environment (Open MPI): MASTER_PORT is not set (mpirun -x MASTER_ADDR=", 0), 0u) << mpi;
}

TEST(LaunchEnv, PartialOpenMpiOrSlurmVariables) {
  EXPECT_EQ(usage_error(with(kMaster, {{"OMPI_COMM_WORLD_SIZE", "2"}})),
            "launch environment (Open MPI): OMPI_COMM_WORLD_SIZE is set but OMPI_COMM_WORLD_RANK is not");
  EXPECT_EQ(usage_error(with(kMaster, {{"OMPI_COMM_WORLD_RANK", "0"}})),
            "launch environment (Open MPI): OMPI_COMM_WORLD_RANK is set but OMPI_COMM_WORLD_SIZE is not");
  EXPECT_EQ(usage_error(with(kMaster, {{"SLURM_PROCID", "0"}})),
            "launch environment (Slurm): SLURM_PROCID is set but SLURM_NTASKS is not");
  EXPECT_EQ(
      usage_error(with(kMaster, {{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_STEP_TASKS_PER_NODE", "2(x"}})),
      "launch environment (Slurm): SLURM_STEP_TASKS_PER_NODE='2(x': expected counts like 4 or 2(x3),1 covering "
      "SLURM_NODEID=0");
  EXPECT_EQ(usage_error(with(kMaster, {{"SLURM_PROCID", "0"},
                                       {"SLURM_NTASKS", "4"},
                                       {"SLURM_NODEID", "3"},
                                       {"SLURM_STEP_TASKS_PER_NODE", "2(x2)"}})),
            "launch environment (Slurm): SLURM_STEP_TASKS_PER_NODE='2(x2)': expected counts like 4 or 2(x3),1 covering "
            "SLURM_NODEID=3");
}
