#include "options.h"

#include <spdlog/spdlog.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cstdio>

#include "cnnkit/config/config_lookup.h"
#include "cnnkit/core/device.h"
#include "cnnkit/core/error.h"
#include "cnnkit/dist/local_launcher.h"
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

CLI::Option* add_nproc_option(CLI::App* sub, int& nproc, const std::string& what) {
  return sub->add_option("--nproc", nproc, what)->capture_default_str()->check(CLI::Range(1, 1024));
}

int launch_local_workers(int nproc, const GlobalOptions& g) {
  dist::LocalLaunchOptions lo;
  lo.nproc = nproc;
  lo.args = g.argv;
  const auto result = dist::run_local_workers(lo);
  if (result.exit_code != 0 && result.exit_code != 130 && result.first_failed_rank >= 0) {
    const int status = result.workers[static_cast<std::size_t>(result.first_failed_rank)].status;
    const std::string how = status > 128 ? " (killed by signal " + std::to_string(status - 128) + ")" : "";
    std::fprintf(stderr, "cnnkit: --nproc %d: rank %d ended with exit status %d%s; the other ranks were stopped\n",
                 nproc, result.first_failed_rank, status, how.c_str());
  }
  return result.exit_code;
}

c10::Device choose_device(const GlobalOptions& g, const Config* config, int local_rank) {
  std::string spec = "auto";
  if (g.device_given)
    spec = g.device;
  else if (config && config->has_section("training"))
    spec = config->resolved()["training"].value("device", "auto");
  c10::Device device = resolve_device(spec);
  if (local_rank > 0 && device.is_cuda() && (spec == "auto" || spec == "cuda")) {
    const int gpus = static_cast<int>(torch::cuda::device_count());
    device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(local_rank % std::max(1, gpus)));
  }
  return device;
}

}  // namespace cnnkit
