// cnnkit bench --config FILE [--batch-size N] [--rounds R] [--seconds S] [--layers] [--no-data] [--json]
#include <iostream>

#include "cnnkit/bench/bench.h"
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
};
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
  return {sub, [o, &g]() {
            Config config = load_config(o->config, o->sets);
            o->bench.data = !o->no_data && config.has_section("data");
            o->bench.data_load.data_root = o->data_root;
            auto j = run_bench(config, choose_device(g, &config), o->bench);
            if (o->json) std::cout << j.dump(2) << "\n";
            else std::cout << format_bench(j);
            return 0;
          }};
}

}  // namespace cnnkit
