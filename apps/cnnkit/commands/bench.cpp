// cnnkit bench --config FILE [--batch N] [--rounds R] [--seconds S] [--layers] [--no-data] [--json]
#include <iostream>

#include "cnnkit/bench/bench.h"
#include "cnnkit/core/device.h"
#include "commands/commands.h"

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
  sub->add_option("-c,--config", o->config, "Config file (JSON)")->required();
  sub->add_option("--set", o->sets, "Override a config value, e.g. --set training.precision=bf16 (repeatable)");
  sub->add_option("--batch", o->bench.batch, "Batch size (default: the config's training.batch_size)");
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
  sub->add_option("--data-root", o->data_root, "Dataset root; beats $CNNKIT_DATA and the config's data.root");
  sub->add_flag("--json", o->json, "Print one JSON document on stdout");
  return {sub, [o, &g]() {
            Config config = load_config(o->config, o->sets);
            o->bench.data = !o->no_data && config.has_section("data");
            o->bench.data_load.data_root = o->data_root;
            c10::Device device = resolve_device(device_choice(g, config.section("training").get_string("device", "auto")));
            auto j = run_bench(config, device, o->bench);
            if (o->json) std::cout << j.dump(2) << "\n";
            else std::cout << format_bench(j);
            return 0;
          }};
}

}  // namespace cnnkit
