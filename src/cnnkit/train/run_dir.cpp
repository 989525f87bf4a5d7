#include "cnnkit/train/run_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <sstream>

#include "cnnkit/core/atomic_file.h"
#include "cnnkit/core/error.h"

namespace cnnkit {
namespace fs = std::filesystem;

namespace {

// ASCII letters, digits, '_' and '-' only: a config name like "../../x" cannot place a run
// outside runs/, and odd bytes never reach a file name.
std::string safe_file_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    out += plain ? c : '_';
  }
  return out.empty() ? "run" : out.substr(0, 100);
}

}  // namespace

std::string create_default_run_dir(const std::string& config_name) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
  const std::string base = "runs/" + safe_file_name(config_name) + "-" + stamp;
  fs::create_directories("runs");
  for (int i = 0;; ++i) {
    const std::string dir = i == 0 ? base : base + "-" + std::to_string(i);
    std::error_code ec;
    if (fs::create_directory(dir, ec)) return dir;  // atomic: the first process to create it owns it
    if (ec) throw Error(dir + ": cannot create the run directory: " + ec.message());
  }
}

const std::vector<std::string>& run_file_names() {
  static const std::vector<std::string> names = {"config.json", "summary.txt",   "summary.json", "metrics.jsonl",
                                                 "metrics.csv", "steps.csv",     "best.pt",      "last.pt",
                                                 "curves.png",  "confusion.png", "final.json",   kRunStatusFile};
  return names;
}

bool holds_run(const std::string& dir) {
  std::error_code ec;
  for (const char* f : {"last.pt", "best.pt", "metrics.jsonl", "config.json"})
    if (fs::exists(fs::path(dir) / f, ec)) return true;
  return false;
}

RunDirLock::RunDirLock(const std::string& dir) {
  const fs::path path = fs::path(dir) / RunDirLock::kFileName;
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(path.string() + ": cannot create the run's lock file: " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {0};
    ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    ::close(fd_);
    fd_ = -1;
    std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    throw Error(dir + ": another cnnkit process" + (pid.empty() ? "" : " (pid " + pid + ")") +
                " is training in this run directory; wait for it or choose another --run-dir");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) {
    ssize_t ignored = ::pwrite(fd_, pid.data(), pid.size(), 0);
    (void)ignored;
  }
}

RunDirLock::~RunDirLock() {
  if (fd_ < 0) return;
  [[maybe_unused]] const int truncated = ::ftruncate(fd_, 0);  // the pid is stale once we are gone
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
}

bool RunDirLock::held(const std::string& dir) {
  const fs::path path = fs::path(dir) / RunDirLock::kFileName;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool busy = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return busy;
}

std::vector<std::string> metric_columns(const nlohmann::json& history) {
  // The known columns in their order; the monitoring columns are val_* with a validation split
  // and test_* without one (docs/training.md), ema_* with training.ema.
  static const std::vector<std::string> known = {
      "epoch",           "train_loss",        "train_accuracy", "val_loss",      "val_accuracy",
      "test_loss",       "test_accuracy",     "ema_val_loss",   "ema_val_accuracy", "ema_test_loss",
      "ema_test_accuracy", "lr",              "seconds",        "images_per_second"};
  if (history.empty()) return {"epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy",
                               "lr",    "seconds",    "images_per_second"};
  std::vector<std::string> cols, extra;
  for (const auto& c : known)
    for (const auto& r : history)
      if (r.contains(c)) {
        cols.push_back(c);
        break;
      }
  for (const auto& r : history)
    for (auto it = r.begin(); it != r.end(); ++it)
      if (std::find(known.begin(), known.end(), it.key()) == known.end() &&
          std::find(extra.begin(), extra.end(), it.key()) == extra.end())
        extra.push_back(it.key());
  cols.insert(cols.end(), extra.begin(), extra.end());
  return cols;
}

void write_metrics_files(const std::string& dir, const nlohmann::json& history) {
  std::ostringstream jsonl, csv;
  const auto cols = metric_columns(history);
  for (std::size_t i = 0; i < cols.size(); ++i) csv << (i ? "," : "") << cols[i];
  csv << "\n";
  for (const auto& r : history) {
    jsonl << r.dump() << "\n";
    for (std::size_t i = 0; i < cols.size(); ++i) {
      csv << (i ? "," : "");
      if (r.contains(cols[i]) && !r[cols[i]].is_null()) csv << r[cols[i]].dump();
    }
    csv << "\n";
  }
  write_text_atomically(fs::path(dir) / "metrics.jsonl", jsonl.str());
  write_text_atomically(fs::path(dir) / "metrics.csv", csv.str());
}

// ---- status.json

std::optional<nlohmann::json> read_run_status(const std::string& dir) {
  const fs::path p = fs::path(dir) / kRunStatusFile;
  std::error_code ec;
  if (!fs::exists(p, ec)) return std::nullopt;
  return nlohmann::json::parse(read_text_file(p, "run status file"));
}

void write_run_status(const std::string& dir, const nlohmann::json& status) {
  write_text_atomically(fs::path(dir) / kRunStatusFile, status.dump(2) + "\n");
}

std::string iso_time_now() {
  std::time_t now = std::time(nullptr);
  char stamp[40];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S%z", std::localtime(&now));
  return stamp;
}

// ---- latest

bool point_latest_at(const std::string& run_dir) {
  fs::path run = fs::absolute(run_dir).lexically_normal();
  if (run.filename().empty()) run = run.parent_path();  // "runs/x/" -> "runs/x"
  const fs::path link = run.parent_path() / kLatestRunLink;
  if (run.filename() == kLatestRunLink) return false;
  std::error_code ec;
  if (fs::exists(fs::symlink_status(link, ec)) && !fs::is_symlink(fs::symlink_status(link, ec))) return false;
  const fs::path tmp = run.parent_path() / (std::string(".") + kLatestRunLink + ".tmp." + std::to_string(::getpid()));
  fs::remove(tmp, ec);
  fs::create_symlink(run.filename(), tmp, ec);
  if (ec) return false;
  fs::rename(tmp, link, ec);  // rename(2) replaces the old link atomically
  if (ec) {
    fs::remove(tmp, ec);
    return false;
  }
  return true;
}

namespace {

bool has_checkpoint(const fs::path& dir) {
  std::error_code ec;
  return fs::is_regular_file(dir / "best.pt", ec) || fs::is_regular_file(dir / "last.pt", ec);
}

fs::file_time_type newest_checkpoint_time(const fs::path& dir) {
  std::error_code ec;
  fs::file_time_type t = fs::file_time_type::min();
  for (const char* f : {"best.pt", "last.pt"}) {
    const auto w = fs::last_write_time(dir / f, ec);
    if (!ec && w > t) t = w;
  }
  return t;
}

}  // namespace

std::optional<std::string> latest_run(const std::string& runs_dir) {
  std::error_code ec;
  const fs::path link = fs::path(runs_dir) / kLatestRunLink;
  if (fs::is_symlink(fs::symlink_status(link, ec)) && fs::is_directory(link, ec)) {
    const fs::path target = fs::read_symlink(link, ec);
    if (!ec) return (target.is_absolute() ? target : fs::path(runs_dir) / target).lexically_normal().string();
  }
  if (!fs::is_directory(runs_dir, ec)) return std::nullopt;
  std::optional<fs::path> best;
  fs::file_time_type best_time = fs::file_time_type::min();
  for (const auto& e : fs::directory_iterator(runs_dir, ec)) {
    if (e.is_symlink(ec) || !e.is_directory(ec) || !has_checkpoint(e.path())) continue;
    const auto t = newest_checkpoint_time(e.path());
    if (!best || t > best_time) {
      best = e.path();
      best_time = t;
    }
  }
  if (!best) return std::nullopt;
  return best->lexically_normal().string();
}

}  // namespace cnnkit
