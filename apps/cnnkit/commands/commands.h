// Each command registers its subcommand and options on the CLI11 app and returns the function
// that runs it. Commands are thin: they parse options, call the library and print its results.
// Adding a command: a file in commands/ with its register_<name>(), declared here and listed
// in kCommands (main.cpp).
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
  std::vector<std::string> argv;  // the command line as given (train --nproc restarts it N times)
};

using CommandRunner = std::function<int()>;

struct Command {
  CLI::App* app;
  CommandRunner run;
};

using CommandRegistration = Command (*)(CLI::App& app, const GlobalOptions& g);

Command register_summary(CLI::App& app, const GlobalOptions& g);
Command register_info(CLI::App& app, const GlobalOptions& g);
Command register_train(CLI::App& app, const GlobalOptions& g);
Command register_evaluate(CLI::App& app, const GlobalOptions& g);
Command register_predict(CLI::App& app, const GlobalOptions& g);
Command register_data(CLI::App& app, const GlobalOptions& g);
Command register_bench(CLI::App& app, const GlobalOptions& g);
Command register_featuremap(CLI::App& app, const GlobalOptions& g);
Command register_runs(CLI::App& app, const GlobalOptions& g);
Command register_configs(CLI::App& app, const GlobalOptions& g);
Command register_completion(CLI::App& app, const GlobalOptions& g);
Command register_export(CLI::App& app, const GlobalOptions& g);

}  // namespace cnnkit
