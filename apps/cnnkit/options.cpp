#include "options.h"

#include <spdlog/spdlog.h>

#include "cnnkit/config/config_lookup.h"
#include "cnnkit/core/device.h"
#include "cnnkit/core/error.h"
#include "cnnkit/train/run_dir.h"

namespace cnnkit {

std::string resolve_config_name(const std::string& name) { return find_config_file(name); }

CLI::Option* add_config_option(CLI::App* sub, std::string& path, const std::string& what) {
  // A ConfigError thrown here leaves CLI11's parse and reaches main as exit 2.
  return sub
      ->add_option("-c,--config", path,
                   "Config: a file, or a name from configs/ or the installed configs (cnnkit configs)" + what)
      ->transform([](const std::string& name) { return resolve_config_name(name); }, "", "");
}

CLI::Option* add_set_option(CLI::App* sub, std::vector<std::string>& sets, const std::string& example) {
  return sub->add_option("--set", sets, "Override a config value, e.g. --set " + example + " (repeatable)");
}

CLI::Option* add_data_root_option(CLI::App* sub, std::string& root) {
  return sub->add_option("--data-root", root, "Dataset root; beats $CNNKIT_DATA, which beats the config's data.root");
}

CLI::Option* add_json_flag(CLI::App* sub, bool& json, const std::string& what) {
  return sub->add_flag("--json", json, what);
}

CLI::Option* add_batch_size_option(CLI::App* sub, int& batch, const std::string& what) {
  return sub->add_option("--batch-size", batch, what)->capture_default_str()->check(CLI::Range(1, 1 << 20));
}

CLI::Option* add_checkpoint_option(CLI::App* sub, std::string& path, const std::string& prefer, bool positional) {
  return sub->add_option(positional ? "--checkpoint,checkpoint" : "--checkpoint", path,
                         "Checkpoint file, or a run directory (its " + prefer + "); default: the latest run in ./" +
                             kRunsDir);
}

std::string default_checkpoint_or_latest(const std::string& given, const std::string& option) {
  if (!given.empty()) return given;
  if (auto run = latest_run(kRunsDir)) {
    spdlog::info("using the latest run: {} (give {} to choose another)", *run, option);
    return *run;
  }
  throw UsageError(std::string("no ") + option + " given and no run found in ./" + kRunsDir +
                   " (looked for " + kRunsDir + "/" + kLatestRunLink + " and run directories holding best.pt or last.pt); "
                   "give " + option + " FILE|RUN_DIR, or train one first: cnnkit train --config NAME");
}

c10::Device choose_device(const GlobalOptions& g, const Config* config) {
  std::string spec = "auto";
  if (g.device_given)
    spec = g.device;
  else if (config && config->has_section("training"))
    spec = config->resolved()["training"].value("device", "auto");
  return resolve_device(spec);
}

}  // namespace cnnkit
