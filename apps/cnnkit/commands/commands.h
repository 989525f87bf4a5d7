// Each command registers its subcommand and options on the CLI11 app and returns the function
// that runs it. Commands are thin: they parse options and call the library.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace cnnkit {

struct GlobalOptions {
  std::string device = "auto";
  int threads = 0;  // 0 = all physical cores
  std::string log_level = "info";
  bool quiet = false;
  bool device_given = false;  // --device was on the command line (it beats the config)
};

// The device to use: --device when given, else the config's training.device, else "auto".
std::string device_choice(const GlobalOptions& g, const std::string& config_device);

using CommandRunner = std::function<int()>;

struct Command {
  CLI::App* app;
  CommandRunner run;
};

Command register_summary(CLI::App& app, const GlobalOptions& g);
Command register_info(CLI::App& app, const GlobalOptions& g);
Command register_train(CLI::App& app, const GlobalOptions& g);
Command register_evaluate(CLI::App& app, const GlobalOptions& g);
Command register_predict(CLI::App& app, const GlobalOptions& g);
Command register_data(CLI::App& app, const GlobalOptions& g);
Command register_bench(CLI::App& app, const GlobalOptions& g);
Command register_featuremap(CLI::App& app, const GlobalOptions& g);
Command register_export(CLI::App& app, const GlobalOptions& g);

}  // namespace cnnkit
