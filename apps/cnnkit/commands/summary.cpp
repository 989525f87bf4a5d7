// cnnkit summary --config FILE [--json] [--set k=v]
#include <iostream>

#include "cnnkit/config/config.h"
#include "cnnkit/model/model.h"
#include "cnnkit/model/summary.h"
#include "commands/commands.h"
#include "options.h"

namespace cnnkit {

namespace {
struct SummaryOptions {
  std::string config;
  std::vector<std::string> sets;
  bool json = false;
};
}  // namespace

Command register_summary(CLI::App& app, const GlobalOptions&) {
  auto o = std::make_shared<SummaryOptions>();
  auto* sub = app.add_subcommand("summary", "Show a model's layers, output shapes, parameters and cost");
  add_config_option(sub, o->config)->required();
  add_set_option(sub, o->sets, "layers.0.filters=16");
  add_json_flag(sub, o->json);
  return {sub, [o]() {
            Config config = load_config(o->config, o->sets);
            Model model = build_model(config);
            auto s = summarize(model, config.name());
            if (o->json)
              std::cout << s.dump(2) << "\n";
            else
              std::cout << format_summary(s);
            return 0;
          }};
}

}  // namespace cnnkit
