// Config parser, --set overrides and shape inference: load_config (read_text_file, JSON
// parsing, overrides, every registered section's validation), then build_model under a lowered
// memory limit, the summary and its JSON text. Input: the config text, then up to 8 --set
// assignments, separated by NUL bytes.
#include <cstdio>
#include <cstdlib>

#include "cnnkit/config/config.h"
#include "cnnkit/core/error.h"
#include "cnnkit/core/json_text.h"
#include "cnnkit/model/model.h"
#include "cnnkit/model/summary.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cnnkit::fuzz::init();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parts = cnnkit::fuzz::split_input(data, size, 9);
  const std::string path = cnnkit::fuzz::write_temp("config.json", parts[0]);
  const std::vector<std::string> overrides(parts.begin() + 1, parts.end());
  cnnkit::fuzz::expect_clean([&] {
    cnnkit::Config config = cnnkit::load_config(path, overrides);
    // What --print-config and a checkpoint store must be valid JSON that resolves again, to the
    // same config when nothing had to be replaced (json_text: invalid UTF-8 becomes U+FFFD).
    const std::string text = cnnkit::json_text(config.resolved(), 2);
    try {
      auto source = std::make_shared<cnnkit::ConfigSource>();
      source->file = "again.json";
      cnnkit::Config again = cnnkit::resolve_config(cnnkit::parse_json_text(text, "again.json"), source);
      bool utf8 = true;
      try {
        (void)config.resolved().dump();
      } catch (const cnnkit::json::exception&) {
        utf8 = false;
      }
      if (utf8 && again.resolved() != config.resolved()) {
        std::fprintf(stderr, "resolved config changed when resolved again:\n%s\n%s\n", text.c_str(),
                     cnnkit::json_text(again.resolved(), 2).c_str());
        std::abort();
      }
    } catch (const cnnkit::Error& e) {
      std::fprintf(stderr, "a resolved config does not resolve again: %s\n%s\n", e.what(), text.c_str());
      std::abort();
    }
    cnnkit::Model model = cnnkit::build_model(config);
    auto summary = cnnkit::summarize(model, config.name());
    cnnkit::json_text(summary);
    cnnkit::format_summary(summary);
  }, std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
