// Logging setup and what the terminal can show: spdlog to stderr only (stdout is for
// results). Progress output asks whether stderr is a terminal and whether the user asked for
// quiet; printed text asks whether it may use colour and UTF-8.
//
// Colour (--color auto|always|never): "auto" colours stderr when it is a terminal and the
// environment variable NO_COLOR is unset or empty (https://no-color.org); "always" and "never"
// beat NO_COLOR.
// UTF-8: box-drawing lines, "×" and arrows are written as ASCII ("=", "-", "x", "->") when the
// locale (LC_ALL, else LC_CTYPE, else LANG) does not name UTF-8.
#pragma once
#include <string>

namespace cnnkit {

enum class ColorMode { kAuto, kAlways, kNever };
// "auto" | "always" | "never"; anything else throws UsageError.
ColorMode parse_color_mode(const std::string& s);

// level: trace|debug|info|warn|error|off. Throws UsageError for anything else.
void setup_logging(const std::string& level, bool quiet, ColorMode color = ColorMode::kAuto);
bool quiet_mode();
bool stderr_is_terminal();
// Whether text for people on stderr may carry ANSI colours (the mode set by setup_logging,
// "auto" before it runs).
bool stderr_color();
void set_color_mode(ColorMode mode);

// Whether the locale names UTF-8 (LC_ALL, else LC_CTYPE, else LANG; unset means "C").
bool utf8_locale();
// `text` as the terminal can show it: unchanged in a UTF-8 locale; else the box-drawing
// characters, "×", arrows and dashes cnnkit writes are replaced by ASCII.
std::string for_terminal(const std::string& text);
std::string ascii_fallback(const std::string& text);  // the replacement, whatever the locale

}  // namespace cnnkit
