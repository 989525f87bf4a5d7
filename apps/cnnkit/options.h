// Options that several commands take, declared once: one spelling, one wording, the default
// shown in --help. And the one rule for choosing the device.
#pragma once
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <CLI/CLI.hpp>

#include "cnnkit/config/config.h"
#include "commands/commands.h"

namespace cnnkit {

// -c,--config FILE. `what` completes "Config file (JSON)" for the command, e.g. "; not with --resume".
CLI::Option* add_config_option(CLI::App* sub, std::string& path, const std::string& what = "");
// --set PATH=VALUE, repeatable; `example` is an assignment that fits the command.
CLI::Option* add_set_option(CLI::App* sub, std::vector<std::string>& sets,
                            const std::string& example = "training.epochs=5");
// --data-root DIR.
CLI::Option* add_data_root_option(CLI::App* sub, std::string& root);
// --json: print one JSON document (or JSON lines, as `what` says) on stdout.
CLI::Option* add_json_flag(CLI::App* sub, bool& json, const std::string& what = "Print one JSON document on stdout");
// --batch-size N: images per forward pass (or per optimizer step, as `what` says).
CLI::Option* add_batch_size_option(CLI::App* sub, int& batch, const std::string& what);
// --checkpoint FILE|RUN_DIR.
CLI::Option* add_checkpoint_option(CLI::App* sub, std::string& path, const std::string& prefer = "best.pt");

// The device of every command: --device when given, else training.device of the config file
// the user gave (--config, or the resumed run's config for train --resume; never the config
// stored in a checkpoint that is only being used), else "auto".
c10::Device choose_device(const GlobalOptions& g, const Config* config);

}  // namespace cnnkit
