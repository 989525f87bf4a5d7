#include "cnnkit/core/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "cnnkit/core/error.h"

namespace cnnkit {
namespace {
bool g_quiet = false;
ColorMode g_color = ColorMode::kAuto;

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

}  // namespace

ColorMode parse_color_mode(const std::string& s) {
  if (s == "auto") return ColorMode::kAuto;
  if (s == "always") return ColorMode::kAlways;
  if (s == "never") return ColorMode::kNever;
  throw UsageError("--color " + s + ": expected auto, always or never");
}

void set_color_mode(ColorMode mode) { g_color = mode; }

bool stderr_color() {
  if (g_color != ColorMode::kAuto) return g_color == ColorMode::kAlways;
  const char* no_color = std::getenv("NO_COLOR");
  return stderr_is_terminal() && !(no_color && *no_color);
}

void setup_logging(const std::string& level, bool quiet, ColorMode color) {
  g_quiet = quiet;
  g_color = color;
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    throw UsageError("--log-level " + level + ": expected trace, debug, info, warn, error or off");
  }
  if (quiet && lvl < spdlog::level::warn) lvl = spdlog::level::warn;
  auto logger = spdlog::stderr_color_mt("cnnkit", stderr_color() ? spdlog::color_mode::always : spdlog::color_mode::never);
  const std::string pattern = stderr_is_terminal() ? "%^[%l]%$ %v" : "[%Y-%m-%d %H:%M:%S] [%l] %v";
  if (utf8_locale())
    logger->set_pattern(pattern);
  else
    logger->set_formatter(std::make_unique<AsciiFormatter>(pattern));
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
}

bool quiet_mode() { return g_quiet; }

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

bool utf8_locale() {
  const char* value = nullptr;
  for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    const char* v = std::getenv(name);
    if (v && *v) {
      value = v;
      break;
    }
  }
  if (!value) return false;
  std::string s(value);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s.find("utf-8") != std::string::npos || s.find("utf8") != std::string::npos;
}

std::string ascii_fallback(const std::string& text) {
  static const std::pair<const char*, const char*> kMap[] = {
      {"━", "="}, {"─", "-"}, {"└", "`"}, {"├", "|"}, {"│", "|"}, {"×", "x"},  {"→", "->"}, {"←", "<-"},
      {"↔", "<->"}, {"–", "-"}, {"—", "-"}, {"…", "..."}, {"≥", ">="}, {"≤", "<="}, {"±", "+/-"}, {"°", " deg"}};
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      out += text[i++];
      continue;
    }
    bool replaced = false;
    for (const auto& [from, to] : kMap) {
      const std::size_t n = std::char_traits<char>::length(from);
      if (text.compare(i, n, from) == 0) {
        out += to;
        i += n;
        replaced = true;
        break;
      }
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

std::string for_terminal(const std::string& text) { return utf8_locale() ? text : ascii_fallback(text); }

}  // namespace cnnkit
