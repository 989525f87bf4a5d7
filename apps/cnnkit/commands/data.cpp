// cnnkit data --config FILE [--set k=v] [--data-root DIR] [--json] [--preview N --out FILE.png
//                           [--augmented] [--seed S]] [--bench [--batch-size B]]
#include <iostream>

#include "cnnkit/bench/pipeline_bench.h"
#include "cnnkit/config/config.h"
#include "cnnkit/core/error.h"
#include "cnnkit/data/dataset.h"
#include "cnnkit/data/inspect.h"
#include "cnnkit/io/image_io.h"
#include "cnnkit/core/logging.h"
#include "cnnkit/core/terminal.h"
#include "commands/commands.h"
#include "options.h"

namespace cnnkit {

namespace {
struct DataOptions {
  std::string config;
  std::vector<std::string> sets;
  std::string data_root;
  bool json = false;
  std::int64_t preview = 0;
  std::string out;
  bool augmented = false;
  std::int64_t seed = 0;
  bool bench = false;
  int batch_size = 128;
  double bench_seconds = 3.0;
};
}  // namespace

Command register_data(CLI::App& app, const GlobalOptions& g) {
  auto o = std::make_shared<DataOptions>();
  auto* sub = app.add_subcommand("data", "Show what a config's data section loads: files, counts, classes, statistics");
  add_config_option(sub, o->config, " with a \"data\" section")->required();
  add_set_option(sub, o->sets, "data.limit_train=1000");
  add_data_root_option(sub, o->data_root);
  add_json_flag(sub, o->json);
  sub->add_option("--preview", o->preview, "Write a labelled grid of N training images to --out")
      ->check(CLI::Range(1, 10000));
  sub->add_option("--out", o->out, "PNG file for --preview");
  sub->add_flag("--augmented", o->augmented, "Preview the images after training augmentation");
  sub->add_option("--seed", o->seed, "Seed for the preview's choice and augmentation")->capture_default_str();
  sub->add_flag("--bench", o->bench, "Time batch assembly + augmentation against a training step of the model");
  add_batch_size_option(sub, o->batch_size, "Batch size for --bench");
  sub->add_option("--bench-seconds", o->bench_seconds, "Seconds per --bench measurement")->capture_default_str()
      ->check(CLI::Range(0.1, 600.0));
  const GlobalOptions* global = &g;
  return {sub, [o, global]() {
            if (o->preview > 0 && o->out.empty()) throw UsageError("--preview needs --out FILE.png");
            if (!o->out.empty() && o->preview == 0) throw UsageError("--out needs --preview N");
            if (o->augmented && o->preview == 0) throw UsageError("--augmented applies to --preview N --out FILE.png");
            if (o->preview > 0 && !image_io_available())
              throw ImageIOError(o->out + ": cannot write a preview: cnnkit was built without OpenCV");
            Config config = load_config(o->config, o->sets);
            DataLoadOptions lo;
            lo.data_root = o->data_root;
            Datasets data = load_datasets(config, lo);
            nlohmann::json result = data.description;
            if (o->preview > 0) {
              write_png(o->out, preview_grid(config, data, o->preview, o->augmented, o->seed));
              result["preview"] = {{"file", o->out},
                                   {"images", std::min(o->preview, data.train.size())},
                                   {"augmented", o->augmented}};
            }
            if (o->bench) {
              result["bench"] = benchmark_pipeline(config, data, choose_device(*global, &config), o->batch_size,
                                                   o->seed, o->bench_seconds);
            }
            if (o->json) {
              std::cout << result.dump(2) << "\n";
              return 0;
            }
            std::cout << for_terminal(format_description(result));
            if (result.contains("preview"))
              std::cout << "preview       " << result["preview"]["images"].get<std::int64_t>() << " images -> "
                        << o->out << "\n";
            if (result.contains("bench")) {
              const auto& b = result["bench"];
              char line[512];
              std::snprintf(line, sizeof line, "bench         batches of %lld on %s, %d threads: pipeline %.0f images/s, training step "
                          "%.0f images/s (pipeline would take %.1f%% of a serial step)\n",
                          static_cast<long long>(b["batch_size"].get<std::int64_t>()),
                          b["device"].get<std::string>().c_str(), b["threads"].get<int>(),
                          b["pipeline_images_per_second"].get<double>(),
                          b["train_step_images_per_second"].get<double>(),
                          100.0 * b["pipeline_time_share"].get<double>());
              std::cout << line;
            }
            return 0;
          }};
}

}  // namespace cnnkit
