#include "cnnkit/core/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "cnnkit/core/error.h"

namespace cnnkit {
namespace {
bool g_quiet = false;
}

void setup_logging(const std::string& level, bool quiet) {
  g_quiet = quiet;
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    throw UsageError("--log-level " + level + ": expected trace, debug, info, warn, error or off");
  }
  if (quiet && lvl < spdlog::level::warn) lvl = spdlog::level::warn;
  auto logger = spdlog::stderr_color_mt("cnnkit");
  logger->set_pattern(stderr_is_terminal() ? "%^[%l]%$ %v" : "[%Y-%m-%d %H:%M:%S] [%l] %v");
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
}

bool quiet_mode() { return g_quiet; }

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace cnnkit
