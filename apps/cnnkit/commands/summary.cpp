// cnnkit summary --config FILE [--json] [--set k=v]
#include <iostream>

#include "cnnkit/config/config.h"
#include "cnnkit/model/model.h"
#include "cnnkit/model/summary.h"
#include "commands/commands.h"

namespace cnnkit {

namespace {
struct SummaryOptions {
  std::string config;
  std::vector<std::string> sets;
  bool json = false;
};
}  // namespace

Command register_summary(CLI::App& app, const GlobalOptions&) {
  auto opts = std::make_shared<SummaryOptions>();
  auto* sub = app.add_subcommand("summary", "Show a model's layers, output shapes, parameters and cost");
  sub->add_option("-c,--config", opts->config, "Model config (JSON)")->required();
  sub->add_option("--set", opts->sets, "Override a config value, e.g. --set layers.0.filters=16 (repeatable)");
  sub->add_flag("--json", opts->json, "Print one JSON document on stdout");
  return {sub, [opts]() {
            Config config = load_config(opts->config, opts->sets);
            Model model = build_model(config);
            auto s = summarize(model, config.name());
            if (opts->json) std::cout << s.dump(2) << "\n";
            else std::cout << format_summary(s);
            return 0;
          }};
}

}  // namespace cnnkit
