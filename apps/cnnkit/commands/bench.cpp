// cnnkit bench --config FILE [--batch-size N] [--rounds R] [--seconds S] [--layers] [--no-data] [--json]
//              [--nproc N]
// With --nproc N (or under torchrun/srun/mpirun), the data-parallel measurement instead
// (bench/dist_bench.h): one process against N, interleaved, in one run.
#include <iostream>

#include "cnnkit/bench/bench.h"
#include "cnnkit/bench/dist_bench.h"
#include "cnnkit/core/logging.h"
#include "cnnkit/core/terminal.h"
#include "cnnkit/core/threads.h"
#include "cnnkit/dist/launch_env.h"
#include "commands/commands.h"
#include "options.h"

namespace cnnkit {

namespace {
struct BenchCliOptions {
  std::string config;
  std::vector<std::string> sets;
  std::string data_root;
  BenchOptions bench;
  bool no_data = false;
  bool json = false;
  int nproc = 1;
};

int run_distributed(const BenchCliOptions& o, const GlobalOptions& g, const Config& config,
                    const dist::LaunchInfo& launch) {
  set_log_rank(launch.rank);
  if (g.threads <= 0) configure_threads(0, launch.local_world_size);
  auto j = run_dist_bench(config, choose_device(g, &config, launch.local_rank), o.bench, launch, {});
  if (!launch.is_root()) return 0;
  if (o.json)
    std::cout << j.dump(2) << "\n";
  else
    std::cout << format_dist_bench(j);
  return 0;
}
}  // namespace

Command register_bench(CLI::App& app, const GlobalOptions& g) {
  auto o = std::make_shared<BenchCliOptions>();
  auto* sub = app.add_subcommand("bench", "Measure training/inference speed against this machine's matmul throughput");
  add_config_option(sub, o->config)->required();
  add_set_option(sub, o->sets, "training.precision=bf16");
  add_batch_size_option(sub, o->bench.batch, "Images per step")->default_str("the config's training.batch_size");
  sub->add_option("--rounds", o->bench.rounds, "Interleaved rounds (medians are reported)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  sub->add_option("--seconds", o->bench.segment_seconds, "Length of each measured segment")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 60.0));
  sub->add_option("--matmul-size", o->bench.matmul_size, "Side of the square matrices for the matmul ceiling")
      ->capture_default_str()
      ->check(CLI::Range(64, 16384));
  sub->add_flag("--layers", o->bench.layers, "Also time forward and backward of each config layer");
  sub->add_flag("--no-data", o->no_data, "Skip the data-pipeline measurement (no dataset needed)");
  add_data_root_option(sub, o->data_root);
  add_json_flag(sub, o->json);
  add_nproc_option(sub, o->nproc,
                   "Data-parallel: measure training on N processes of this machine against one, interleaved "
                   "(step time, images/s, share of the step waiting for communication)");
  return {sub, [o, &g]() {
            const dist::LaunchInfo launch = dist::detect_launch(dist::current_environment());
            Config config = load_config(o->config, o->sets);
            if (o->nproc > 1 && launch.launcher != dist::Launcher::kNproc) return launch_local_workers(o->nproc, g);
            if (launch.distributed()) return run_distributed(*o, g, config, launch);
            o->bench.data = !o->no_data && config.has_section("data");
            o->bench.data_load.data_root = o->data_root;
            auto j = run_bench(config, choose_device(g, &config), o->bench);
            if (o->json) std::cout << j.dump(2) << "\n";
            else std::cout << for_terminal(format_bench(j));
            return 0;
          }};
}

}  // namespace cnnkit
