#include "cnnkit/core/terminal.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <utility>

#include "cnnkit/core/error.h"
#include "cnnkit/core/strings.h"

namespace cnnkit {
namespace {
ColorMode g_color = ColorMode::kAuto;
}  // namespace

std::string plural(std::int64_t n, const std::string& word, const std::string& plural_word) {
  return with_commas(n) + " " + (n == 1 || n == -1 ? word : (plural_word.empty() ? word + "s" : plural_word));
}

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
  return ::isatty(STDERR_FILENO) == 1 && !(no_color && *no_color);
}

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
