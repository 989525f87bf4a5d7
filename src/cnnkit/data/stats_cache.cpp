#include "cnnkit/data/stats_cache.h"

#include <spdlog/spdlog.h>

#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "cnnkit/core/atomic_file.h"
#include "cnnkit/core/input_file.h"
#include "cnnkit/core/json_text.h"

namespace cnnkit {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// Adds the regular files under directory `dir` (following links) to count/total/latest. Each
// directory is visited once (by device and inode), so link loops end; depth and entries are
// bounded. False when something cannot be read or a bound is hit: no fingerprint, no cache.
bool walk(const std::string& dir, int depth, std::set<std::pair<dev_t, ino_t>>& seen, std::int64_t& count,
          std::uintmax_t& total, std::int64_t& latest) {
  struct stat st {};
  if (depth > 16 || ::stat(dir.c_str(), &st) != 0) return false;
  if (!seen.insert({st.st_dev, st.st_ino}).second) return true;  // reached again through a link: counted once
  latest = std::max<std::int64_t>(latest, std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec);
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string path = it->path().string();
    struct stat e {};
    if (::stat(path.c_str(), &e) != 0) continue;  // a dangling link: not data
    if (S_ISDIR(e.st_mode)) {
      if (!walk(path, depth + 1, seen, count, total, latest)) return false;
    } else if (S_ISREG(e.st_mode)) {
      if (++count > 10000000) return false;
      total += static_cast<std::uintmax_t>(e.st_size);
      latest = std::max<std::int64_t>(latest, std::int64_t(e.st_mtim.tv_sec) * 1000000000 + e.st_mtim.tv_nsec);
    }
  }
  return !ec;
}

// What would change if the data changed: size and mtime of a file; for a folder, the number,
// total size and latest mtime of the regular files under it. Null when it cannot be read.
json fingerprint(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return nullptr;
  if (S_ISREG(st.st_mode)) {
    return {{"size", std::uintmax_t(st.st_size)},
            {"mtime_ns", std::int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec}};
  }
  if (!S_ISDIR(st.st_mode)) return nullptr;
  std::set<std::pair<dev_t, ino_t>> seen;
  std::int64_t count = 0, latest = 0;
  std::uintmax_t total = 0;
  if (!walk(path, 0, seen, count, total, latest)) return nullptr;
  return {{"files", count}, {"size", total}, {"mtime_ns", latest}};
}

// Statistics of [0, 1] pixel values: finite, means in [0, 1], stds in [0, 0.5].
bool plausible(const Normalization& n, std::size_t channels) {
  if (n.mean.size() != channels || n.std.size() != channels) return false;
  for (std::size_t c = 0; c < channels; ++c) {
    if (!std::isfinite(n.mean[c]) || !std::isfinite(n.std[c])) return false;
    if (n.mean[c] < 0.0 || n.mean[c] > 1.0 || n.std[c] < 0.0 || n.std[c] > 0.5) return false;
  }
  return true;
}

fs::path entry_path(const json& key) {
  char name[48];
  std::snprintf(name, sizeof name, "pixel-stats-%016llx.json", static_cast<unsigned long long>(fnv1a(json_text(key))));
  return fs::path(stats_cache_dir()) / name;
}

}  // namespace

std::string stats_cache_dir() {
  if (const char* d = std::getenv("CNNKIT_CACHE_DIR"); d && *d) return d;
  if (const char* d = std::getenv("XDG_CACHE_HOME"); d && *d) return (fs::path(d) / "cnnkit").string();
  if (const char* h = std::getenv("HOME"); h && *h) return (fs::path(h) / ".cache" / "cnnkit").string();
  return "";
}

json pixel_stats_key(const Config& config, const std::string& absolute_root) {
  json data = config.resolved().at("data");
  for (const char* k : {"augment", "normalize", "root", "limit_test"}) data.erase(k);
  return {{"format", 1}, {"root", absolute_root}, {"data", data}, {"input", config.resolved().at("input")}};
}

std::optional<Normalization> read_cached_pixel_stats(const json& key) {
  if (stats_cache_dir().empty()) return std::nullopt;
  const fs::path path = entry_path(key);
  try {
    InputFile in(path.string());  // a FIFO or device planted in the cache is a miss, not a hang
    std::string text;
    if (!in.read_all(text, 16u << 20)) return std::nullopt;
    json e = parse_json_text(text, path.string());  // depth-limited
    if (e.at("key") != key) return std::nullopt;
    for (const auto& f : e.at("files"))
      if (fingerprint(f.at("path").get<std::string>()) != f.at("fingerprint")) {
        spdlog::debug("{}: stale ({} changed)", path.string(), f.at("path").get<std::string>());
        return std::nullopt;
      }
    Normalization n{e.at("mean").get<std::vector<double>>(), e.at("std").get<std::vector<double>>()};
    if (!plausible(n, key.at("input").at("channels").get<std::size_t>())) {
      spdlog::debug("{}: implausible statistics ignored", path.string());
      return std::nullopt;
    }
    return n;
  } catch (const std::exception& ex) {
    spdlog::debug("{}: unreadable cache entry ignored: {}", path.string(), ex.what());
    return std::nullopt;
  }
}

void write_cached_pixel_stats(const json& key, const std::vector<std::string>& files, const Normalization& stats) {
  if (stats_cache_dir().empty() || files.empty()) return;
  const fs::path path = entry_path(key);
  try {
    json list = json::array();
    for (const auto& f : files) {
      json fp = fingerprint(f);
      if (fp.is_null()) return;  // cannot tell later whether it changed: do not cache
      list.push_back({{"path", f}, {"fingerprint", fp}});
    }
    json e = {{"key", key}, {"files", list}, {"mean", stats.mean}, {"std", stats.std}};
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    write_file_atomically(path, json_text(e, 2) + "\n", /*durable=*/false);
  } catch (const std::exception& ex) {
    spdlog::debug("{}: cache entry not written: {}", path.string(), ex.what());
  }
}

}  // namespace cnnkit
