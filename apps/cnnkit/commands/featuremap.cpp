// cnnkit featuremap ([--checkpoint] FILE|RUN_DIR | --config FILE | --compare A B) [--layer L]...
//                   [--image PATH]... [--index N]... [--out DIR] [--scale N]
//                   [--normalize channel|layer] [--colormap NAME] [--filters]
// Writes PNGs of layer outputs (and kernels); prints a JSON manifest of every file on stdout.
// With none of the three: the latest run in ./runs.
#include <iostream>

#include "cnnkit/io/image_io.h"
#include "cnnkit/viz/featuremap_run.h"
#include "commands/commands.h"
#include "options.h"

namespace cnnkit {

Command register_featuremap(CLI::App& app, const GlobalOptions& g) {
  auto o = std::make_shared<FeaturemapOptions>();
  auto* sub = app.add_subcommand("featuremap", "Write per-layer feature-map (and filter) PNGs; JSON manifest on stdout");
  auto* ck = add_checkpoint_option(sub, o->checkpoint, kRunCheckpointRule, /*positional=*/true);
  add_config_option(sub, o->config,
                    ": alone, the untrained model (seeded with training.seed); with a checkpoint, a model that "
                    "must match it and the data for --index");
  add_set_option(sub, o->sets);
  add_data_root_option(sub, o->data_root);
  sub->add_option("--image", o->images, "Input image (converted and resized to the model's input); repeatable");
  sub->add_option("--index", o->indices, "Input: image N of the configured test split; repeatable (default 0 "
                                         "when no --image)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("-l,--layer", o->layers,
                  "Layer: index, nested address (3.1), name, comma list, or all; repeatable")
      ->capture_default_str();
  sub->add_option("-o,--out", o->out, "Output folder (default: <run dir>/featuremaps for a checkpoint in a run "
                                      "directory, else ./featuremaps)");
  sub->add_option("--scale", o->scale, "Nearest-neighbour upscaling factor of the maps; 0 = auto (maps >= 128 px; filter tiles are never smaller than auto)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--normalize", o->normalize, "Value range per channel or shared across the layer")
      ->capture_default_str()
      ->check(CLI::IsMember({"channel", "layer"}));
  sub->add_option("--colormap", o->colormap, "gray or a colour map")
      ->capture_default_str()
      ->check(CLI::IsMember(colormap_names()));
  sub->add_option("--compare", o->compare,
                  "Two models side by side, same inputs and shared normalisation: checkpoint, run dir or 'untrained'")
      ->expected(2)
      ->excludes(ck);
  sub->add_flag("--filters", o->filters, "Also write the chosen conv layers' kernels (filters.png)");
  return {sub, [o, &g]() {
            if (o->checkpoint.empty() && o->config.empty() && o->compare.empty())
              o->checkpoint = default_checkpoint_or_latest("");
            std::optional<Config> user;
            if (!o->config.empty()) user = load_config(o->config, o->sets);
            nlohmann::json manifest = run_featuremaps(*o, choose_device(g, user ? &*user : nullptr));
            std::cout << manifest.dump(2) << "\n";
            return 0;
          }};
}

}  // namespace cnnkit
