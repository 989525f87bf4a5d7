#include "cnnkit/core/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include "cnnkit/core/error.h"
#include "cnnkit/core/terminal.h"

namespace cnnkit {
namespace {
bool g_quiet = false;
int g_rank = 0;

std::string pattern(const std::string& prefix) {
  return stderr_is_terminal() ? "%^[%l]%$ " + prefix + "%v" : "[%Y-%m-%d %H:%M:%S] [%l] " + prefix + "%v";
}

// Formats with the usual pattern, then makes the line ASCII (a non-UTF-8 terminal).
class AsciiFormatter : public spdlog::formatter {
 public:
  explicit AsciiFormatter(std::string pattern)
      : pattern_(std::move(pattern)), inner_(std::make_unique<spdlog::pattern_formatter>(pattern_)) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    spdlog::memory_buf_t line;
    inner_->format(msg, line);
    const std::string s = ascii_fallback(std::string(line.data(), line.size()));
    dest.append(s.data(), s.data() + s.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<AsciiFormatter>(pattern_); }

 private:
  std::string pattern_;
  std::unique_ptr<spdlog::formatter> inner_;
};

// The pattern as is on a UTF-8 terminal or log, made ASCII otherwise.
void set_pattern(spdlog::logger& logger, const std::string& pattern) {
  if (utf8_locale())
    logger.set_pattern(pattern);
  else
    logger.set_formatter(std::make_unique<AsciiFormatter>(pattern));
}

}  // namespace

void setup_logging(const std::string& level, bool quiet) {
  g_quiet = quiet;
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    throw UsageError("--log-level " + level + ": expected trace, debug, info, warn, error or off");
  }
  if (quiet && lvl < spdlog::level::warn) lvl = spdlog::level::warn;
  auto logger = spdlog::stderr_color_mt("cnnkit", stderr_color() ? spdlog::color_mode::always : spdlog::color_mode::never);
  set_pattern(*logger, pattern(""));
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
}

bool quiet_mode() { return g_quiet; }

void set_log_rank(int rank) {
  g_rank = rank;
  if (rank <= 0) return;
  g_quiet = true;
  auto logger = spdlog::default_logger();
  set_pattern(*logger, pattern("[rank " + std::to_string(rank) + "] "));
  if (logger->level() < spdlog::level::warn) logger->set_level(spdlog::level::warn);
}

int log_rank() { return g_rank; }

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace cnnkit
