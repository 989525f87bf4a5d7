#include "options.h"

#include "cnnkit/core/device.h"

namespace cnnkit {

CLI::Option* add_config_option(CLI::App* sub, std::string& path, const std::string& what) {
  return sub->add_option("-c,--config", path, "Config file (JSON)" + what);
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

CLI::Option* add_checkpoint_option(CLI::App* sub, std::string& path, const std::string& prefer) {
  return sub->add_option("--checkpoint", path, "Checkpoint file, or a run directory (its " + prefer + ")");
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
