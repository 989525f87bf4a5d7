#include "cnnkit/data/stats_cache.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cnnkit/core/atomic_file.h"

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

std::int64_t mtime_ns(const fs::path& p, std::error_code& ec) {
  auto t = fs::last_write_time(p, ec);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// What would change if the data changed: size and mtime of a file; for a folder, the number,
// total size and latest mtime of the regular files under it. Null when it cannot be read.
json fingerprint(const std::string& path) {
  std::error_code ec;
  const fs::path p(path);
  if (fs::is_regular_file(p, ec)) {
    auto size = fs::file_size(p, ec);
    if (ec) return nullptr;
    auto mt = mtime_ns(p, ec);
    if (ec) return nullptr;
    return {{"size", size}, {"mtime_ns", mt}};
  }
  if (!fs::is_directory(p, ec)) return nullptr;
  std::int64_t count = 0, latest = mtime_ns(p, ec);
  std::uintmax_t total = 0;
  for (fs::recursive_directory_iterator it(p, fs::directory_options::follow_directory_symlink, ec), end;
       !ec && it != end; it.increment(ec)) {
    std::error_code e;
    const auto& entry = *it;
    auto mt = mtime_ns(entry.path(), e);
    if (!e) latest = std::max(latest, mt);
    if (entry.is_regular_file(e)) {
      ++count;
      total += entry.file_size(e);
    }
  }
  if (ec) return nullptr;
  return {{"files", count}, {"size", total}, {"mtime_ns", latest}};
}

fs::path entry_path(const json& key) {
  char name[48];
  std::snprintf(name, sizeof name, "pixel-stats-%016llx.json", static_cast<unsigned long long>(fnv1a(key.dump())));
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
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  try {
    std::ifstream in(path);
    json e = json::parse(in);
    if (e.at("key") != key) return std::nullopt;
    for (const auto& f : e.at("files"))
      if (fingerprint(f.at("path").get<std::string>()) != f.at("fingerprint")) {
        spdlog::debug("{}: stale ({} changed)", path.string(), f.at("path").get<std::string>());
        return std::nullopt;
      }
    Normalization n{e.at("mean").get<std::vector<double>>(), e.at("std").get<std::vector<double>>()};
    if (n.mean.empty() || n.mean.size() != n.std.size()) return std::nullopt;
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
    write_file_atomically(path, e.dump(2) + "\n", /*durable=*/false);
  } catch (const std::exception& ex) {
    spdlog::debug("{}: cache entry not written: {}", path.string(), ex.what());
  }
}

}  // namespace cnnkit
