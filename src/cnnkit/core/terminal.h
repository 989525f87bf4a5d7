// Text for people at a terminal: plurals, colour and what the locale can show.
//
// Colour (--color auto|always|never): "auto" colours stderr when it is a terminal and the
// environment variable NO_COLOR is unset or empty (https://no-color.org); "always" and "never"
// beat NO_COLOR. setup_logging (core/logging.h) uses the mode set here.
// UTF-8: box-drawing lines, "×" and arrows are written as ASCII ("=", "-", "x", "->") when the
// locale (LC_ALL, else LC_CTYPE, else LANG) does not name UTF-8.
#pragma once
#include <cstdint>
#include <string>

namespace cnnkit {

// "1 epoch", "2 epochs", "1,000 images"; `plural_word` for irregular plurals ("classes").
std::string plural(std::int64_t n, const std::string& word, const std::string& plural_word = "");

enum class ColorMode { kAuto, kAlways, kNever };
// "auto" | "always" | "never"; anything else throws UsageError.
ColorMode parse_color_mode(const std::string& s);
void set_color_mode(ColorMode mode);
// Whether text for people on stderr may carry ANSI colours under the mode set ("auto" until
// set_color_mode is called).
bool stderr_color();

// Whether the locale names UTF-8 (LC_ALL, else LC_CTYPE, else LANG; unset means "C").
bool utf8_locale();
// `text` as the terminal can show it: unchanged in a UTF-8 locale; else the box-drawing
// characters, "×", arrows and dashes cnnkit writes are replaced by ASCII.
std::string for_terminal(const std::string& text);
std::string ascii_fallback(const std::string& text);  // the replacement, whatever the locale

}  // namespace cnnkit
