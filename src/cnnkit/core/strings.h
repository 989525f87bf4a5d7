// Small string helpers used in messages: joining, edit distance, "did you mean".
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cnnkit {

std::string join(const std::vector<std::string>& parts, const std::string& sep);
std::size_t edit_distance(const std::string& a, const std::string& b);
// The candidate closest to `word`, or "" when none is close enough to be a plausible typo.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);
// " (did you mean 'x'?)" or "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);
// 113162 -> "113,162"
std::string with_commas(std::int64_t n);
// 1536 -> "1.50 KiB", 100 -> "100 B"
std::string human_bytes(double bytes);
// 58657280 -> "58.66M", 999 -> "999"
std::string human_count(double n);
std::vector<std::string> split(const std::string& s, char sep);
std::string trim(const std::string& s);

}  // namespace cnnkit
