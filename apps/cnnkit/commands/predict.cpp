// cnnkit predict [[--checkpoint] FILE|RUN_DIR] [IMAGE...] [--json]   (paths from stdin when none;
//                no checkpoint: the latest run in ./runs)
// On a terminal: a table (image, class, probability, the next classes). With --json, or when
// stdout is not a terminal (a pipe, a file): one JSON line per image, for scripts.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "cnnkit/core/logging.h"
#include "cnnkit/core/strings.h"
#include "cnnkit/core/terminal.h"
#include "cnnkit/eval/predictor.h"
#include "cnnkit/eval/trained_model.h"
#include "commands/commands.h"
#include "options.h"

namespace cnnkit {

namespace {
struct PredictOptions {
  std::string checkpoint;
  std::vector<std::string> images;
  int top_k = 5;
  int batch_size = 64;
  bool json = false;
};

// Display width of UTF-8 text (code points).
std::size_t width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}
std::string pad(const std::string& s, std::size_t w) { return s + std::string(w > width(s) ? w - width(s) : 0, ' '); }

std::string percent(double p) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * p);
  return buf;
}

// One aligned block of rows per chunk of images (paths may stream in from stdin).
void print_table(const std::vector<nlohmann::json>& results, bool header) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"image", "class", "probability", "next"});
  for (const auto& r : results) {
    if (r.contains("error")) {
      rows.push_back({r["path"].get<std::string>(), "error", "", r["error"].get<std::string>()});
      continue;
    }
    std::vector<std::string> next;
    for (std::size_t t = 1; t < r["top_k"].size(); ++t)
      next.push_back(r["top_k"][t]["name"].get<std::string>() + " " + percent(r["top_k"][t]["probability"].get<double>()));
    rows.push_back({r["path"].get<std::string>(), r["name"].get<std::string>(), percent(r["probability"].get<double>()),
                    join(next, ", ")});
  }
  std::vector<std::size_t> w(4, 0);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < 3; ++i) w[i] = std::max(w[i], width(row[i]));
  for (std::size_t r = header ? 0 : 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    std::string line = pad(row[0], w[0]) + "  " + pad(row[1], w[1]) + "  " +
                       std::string(w[2] > width(row[2]) ? w[2] - width(row[2]) : 0, ' ') + row[2] + "  " + row[3];
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::cout << for_terminal(line) << "\n";
  }
}

int run_predict(const PredictOptions& o, const GlobalOptions& g) {
  Predictor predictor(load_trained_model(choose_checkpoint_to_evaluate(default_checkpoint_or_latest(o.checkpoint)).path,
                                         "best.pt"),
                      choose_device(g, nullptr), o.top_k);
  const bool json = o.json || ::isatty(STDOUT_FILENO) != 1;
  int failures = 0;
  bool first = true;
  std::vector<std::string> chunk;
  auto flush = [&]() {
    const auto results = predictor.predict(chunk);
    for (const auto& r : results) failures += r.contains("error");
    if (json) {
      for (const auto& r : results) std::cout << r.dump() << "\n";
    } else {
      print_table(results, first);
    }
    first = false;
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
    std::cerr << "cnnkit: error: " << plural(failures, "image") << " could not be classified (see the "
              << (json ? "\"error\" lines" : "error rows") << " on stdout)\n";
    return 1;
  }
  return 0;
}

}  // namespace

Command register_predict(CLI::App& app, const GlobalOptions& g) {
  auto o = std::make_shared<PredictOptions>();
  auto* sub = app.add_subcommand(
      "predict", "Classify image files: a table on a terminal, one JSON line per image with --json or when piped");
  add_checkpoint_option(sub, o->checkpoint);
  sub->add_option("images", o->images, "Image files; when none are given, paths are read from stdin, one per line");
  sub->add_option("-k,--top-k", o->top_k, "How many classes to list per image")->capture_default_str()->check(CLI::PositiveNumber);
  add_batch_size_option(sub, o->batch_size, "Images per forward pass");
  add_json_flag(sub, o->json, "One JSON line per image on stdout (the default when stdout is not a terminal)");
  return {sub, [o, &g]() { return run_predict(*o, g); }};
}

}  // namespace cnnkit
