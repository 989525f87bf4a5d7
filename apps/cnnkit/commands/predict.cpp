// cnnkit predict --checkpoint FILE|RUN_DIR [IMAGE...]   (paths from stdin when none are given)
#include <iostream>

#include "cnnkit/core/strings.h"
#include "cnnkit/eval/predictor.h"
#include "commands/commands.h"
#include "options.h"

namespace cnnkit {

namespace {
struct PredictOptions {
  std::string checkpoint;
  std::vector<std::string> images;
  int top_k = 5;
  int batch_size = 64;
};

int run_predict(const PredictOptions& o, const GlobalOptions& g) {
  Predictor predictor(load_trained_model(o.checkpoint, "best.pt"), choose_device(g, nullptr), o.top_k);
  int failures = 0;
  std::vector<std::string> chunk;
  auto flush = [&]() {
    for (const auto& r : predictor.predict(chunk)) {
      if (r.contains("error")) ++failures;
      std::cout << r.dump() << "\n";
    }
    std::cout.flush();
    chunk.clear();
  };
  auto add = [&](const std::string& path) {
    chunk.push_back(path);
    if (static_cast<int>(chunk.size()) >= o.batch_size) flush();
  };
  if (!o.images.empty()) {
    for (const auto& p : o.images) add(p);
  } else {
    std::string line;
    while (std::getline(std::cin, line)) {
      line = trim(line);
      if (!line.empty()) add(line);
    }
  }
  if (!chunk.empty()) flush();
  if (failures) {
    std::cerr << "cnnkit: error: " << failures << " image" << (failures == 1 ? "" : "s")
              << " could not be classified (see the error lines on stdout)\n";
    return 1;
  }
  return 0;
}

}  // namespace

Command register_predict(CLI::App& app, const GlobalOptions& g) {
  auto o = std::make_shared<PredictOptions>();
  auto* sub = app.add_subcommand("predict", "Classify image files; one JSON line per image on stdout");
  add_checkpoint_option(sub, o->checkpoint)->required();
  sub->add_option("images", o->images, "Image files; when none are given, paths are read from stdin, one per line");
  sub->add_option("-k,--top-k", o->top_k, "How many classes to list per image")->capture_default_str()->check(CLI::PositiveNumber);
  add_batch_size_option(sub, o->batch_size, "Images per forward pass");
  return {sub, [o, &g]() { return run_predict(*o, g); }};
}

}  // namespace cnnkit
