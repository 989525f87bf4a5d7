#include "cnnkit/core/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "cnnkit/core/error.h"

namespace cnnkit {
namespace {
bool g_quiet = false;
int g_rank = 0;

std::string pattern(const std::string& prefix) {
  return stderr_is_terminal() ? "%^[%l]%$ " + prefix + "%v" : "[%Y-%m-%d %H:%M:%S] [%l] " + prefix + "%v";
}
}  // namespace

void setup_logging(const std::string& level, bool quiet) {
  g_quiet = quiet;
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    throw UsageError("--log-level " + level + ": expected trace, debug, info, warn, error or off");
  }
  if (quiet && lvl < spdlog::level::warn) lvl = spdlog::level::warn;
  auto logger = spdlog::stderr_color_mt("cnnkit");
  logger->set_pattern(pattern(""));
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
}

bool quiet_mode() { return g_quiet; }

void set_log_rank(int rank) {
  g_rank = rank;
  if (rank <= 0) return;
  g_quiet = true;
  auto logger = spdlog::default_logger();
  logger->set_pattern(pattern("[rank " + std::to_string(rank) + "] "));
  if (logger->level() < spdlog::level::warn) logger->set_level(spdlog::level::warn);
}

int log_rank() { return g_rank; }

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace cnnkit
