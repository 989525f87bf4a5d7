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

// --nproc N: data-parallel processes on this machine; `what` says what they do.
CLI::Option* add_nproc_option(CLI::App* sub, int& nproc, const std::string& what);
// Starts `nproc` workers of this very command line on this machine (dist::run_local_workers:
// each finds its rank in the environment), reports the first that failed on stderr, and returns
// their outcome as the exit code (130 when interrupted).
int launch_local_workers(int nproc, const GlobalOptions& g);

// The device of every command: --device when given, else training.device of the config file
// the user gave (--config, or the resumed run's config for train --resume; never the config
// stored in a checkpoint that is only being used), else "auto". `local_rank`: a data-parallel
// rank's place on its machine; "auto" and "cuda" then mean GPU local_rank (modulo the GPUs).
c10::Device choose_device(const GlobalOptions& g, const Config* config, int local_rank = 0);

}  // namespace cnnkit
