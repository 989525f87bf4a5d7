// cnnkit summary [CONFIG|CHECKPOINT|RUN_DIR] [-c CONFIG] [--checkpoint FILE|RUN_DIR] [--json] [--set k=v]
// The model of a config (a file or a name: configs/NAME, the installed configs), or of a trained
// run (its checkpoint's config).
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cnnkit/config/config.h"
#include "cnnkit/core/error.h"
#include "cnnkit/model/checkpoint.h"
#include "cnnkit/model/model.h"
#include "cnnkit/model/summary.h"
#include "cnnkit/core/logging.h"
#include "cnnkit/core/terminal.h"
#include "commands/commands.h"
#include "options.h"

namespace cnnkit {

namespace {
namespace fs = std::filesystem;

struct SummaryOptions {
  std::string source;  // positional: a config name/file, a checkpoint or a run directory
  std::string config;
  std::string checkpoint;
  std::vector<std::string> sets;
  bool json = false;
};

// Checkpoints are zip archives (LibTorch's serialisation format).
bool looks_like_checkpoint(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return true;  // a run directory
  if (!fs::is_regular_file(path, ec)) return false;
  char magic[4] = {};
  std::ifstream(path, std::ios::binary).read(magic, 4);
  return magic[0] == 'P' && magic[1] == 'K' && magic[2] == 3 && magic[3] == 4;
}

Config summary_config(const SummaryOptions& o) {
  const int given = !o.source.empty() + !o.config.empty() + !o.checkpoint.empty();
  if (given == 0) throw UsageError("summary needs a config (NAME or FILE), a checkpoint or a run directory");
  if (given > 1) throw UsageError("summary takes one model: a positional CONFIG|CHECKPOINT|RUN_DIR, --config or --checkpoint");
  std::string checkpoint = o.checkpoint;
  std::string config = o.config;  // --config is resolved when parsed
  if (!o.source.empty()) {
    if (looks_like_checkpoint(o.source))
      checkpoint = o.source;
    else
      config = resolve_config_name(o.source);
  }
  if (!checkpoint.empty()) return with_overrides(read_checkpoint(resolve_checkpoint_path(checkpoint, "best.pt")).config, o.sets);
  return load_config(config, o.sets);
}

}  // namespace

Command register_summary(CLI::App& app, const GlobalOptions&) {
  auto o = std::make_shared<SummaryOptions>();
  auto* sub = app.add_subcommand("summary", "Show a model's layers, output shapes, parameters and cost");
  sub->add_option("model", o->source, "A config (NAME or FILE), a checkpoint or a run directory");
  add_config_option(sub, o->config);
  sub->add_option("--checkpoint", o->checkpoint, "Checkpoint file, or a run directory (the config it was trained with)");
  add_set_option(sub, o->sets, "layers.0.filters=16");
  add_json_flag(sub, o->json);
  return {sub, [o]() {
            Config config = summary_config(*o);
            Model model = build_model(config);
            auto s = summarize(model, config.name());
            if (o->json) {
              s["config"] = config.resolved();  // every default filled in, as checkpoints store it
              std::cout << s.dump(2) << "\n";
            } else {
              std::cout << for_terminal(format_summary(s));
            }
            return 0;
          }};
}

}  // namespace cnnkit
