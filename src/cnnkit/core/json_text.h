// The one way cnnkit turns JSON into text (configs stored in checkpoints, cache entries, error
// messages; --json output should use it too).
//
// Decision on text that is not UTF-8: JSON strings must be UTF-8, but Linux file names (data
// roots, class folders, image paths, config names) may hold any bytes. nlohmann's dump() throws
// type_error.316 on such strings by default. json_text() writes every byte that is not part of
// valid UTF-8 as U+FFFD (the replacement character), so the output is always valid JSON and a
// path that is not UTF-8 shows up with '�' in place of its odd bytes. The file itself is still
// opened with its real bytes; only the JSON rendering is lossy.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace cnnkit {

// dump(indent) with invalid UTF-8 replaced by U+FFFD (never throws for invalid UTF-8).
std::string json_text(const nlohmann::json& value, int indent = -1);

// True when `s` is valid UTF-8.
bool is_valid_utf8(const std::string& s);

// `s` with its control characters written as escapes (\n, \r, \t, \xHH), for quoting
// user-given names and paths in error messages, which must stay one line. Other bytes, UTF-8 or
// not, are kept.
std::string printable_text(const std::string& s);

}  // namespace cnnkit
