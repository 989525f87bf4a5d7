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

// -c,--config NAME|FILE. `what` completes the help text for the command, e.g. "; not with --resume".
// The value is resolved when parsed (config/config_lookup.h: the path as given, configs/NAME,
// the installed configs; NAME.json too), so `path` holds the file found.
CLI::Option* add_config_option(CLI::App* sub, std::string& path, const std::string& what = "");
// A config name as the user typed it -> the file (config/config_lookup.h).
std::string resolve_config_name(const std::string& name);
// --set PATH=VALUE, repeatable; `example` is an assignment that fits the command.
CLI::Option* add_set_option(CLI::App* sub, std::vector<std::string>& sets,
                            const std::string& example = "training.epochs=5");
// --data-root DIR.
CLI::Option* add_data_root_option(CLI::App* sub, std::string& root);
// --json: print one JSON document (or JSON lines, as `what` says) on stdout.
CLI::Option* add_json_flag(CLI::App* sub, bool& json, const std::string& what = "Print one JSON document on stdout");
// --batch-size N: images per forward pass (or per optimizer step, as `what` says).
CLI::Option* add_batch_size_option(CLI::App* sub, int& batch, const std::string& what);
// --checkpoint FILE|RUN_DIR, also accepted as the first positional argument when `positional`
// (`cnnkit evaluate runs/x`). When neither is given, commands call default_checkpoint_or_latest().
// Which checkpoint a run directory stands for (choose_checkpoint_to_evaluate), for help texts.
constexpr const char* kRunCheckpointRule = "best.pt when the run chose it on a validation split, else last.pt";
CLI::Option* add_checkpoint_option(CLI::App* sub, std::string& path, const std::string& prefer = kRunCheckpointRule,
                                   bool positional = false);

// Where runs are looked for when a command is given no checkpoint: ./runs.
constexpr const char* kRunsDir = "runs";

// The checkpoint or run directory a command uses: `given` when not empty, else the latest run
// in ./runs (runs/latest, else the run directory with the newest checkpoint), which is said on
// stderr. Throws UsageError naming `option` when there is none. Any command that needs a
// trained model calls it (evaluate, predict, featuremap, export).
std::string default_checkpoint_or_latest(const std::string& given, const std::string& option = "--checkpoint");

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
