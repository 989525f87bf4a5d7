#include "cnnkit/train/run_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

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

constexpr const char* kLockFile = ".lock";

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
                                                 "curves.png",  "confusion.png", "final.json"};
  return names;
}

bool holds_run(const std::string& dir) {
  std::error_code ec;
  for (const char* f : {"last.pt", "best.pt", "metrics.jsonl", "config.json"})
    if (fs::exists(fs::path(dir) / f, ec)) return true;
  return false;
}

RunDirLock::RunDirLock(const std::string& dir) {
  const fs::path path = fs::path(dir) / kLockFile;
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
  const fs::path path = fs::path(dir) / kLockFile;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool busy = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return busy;
}

const std::vector<std::string>& metric_columns() {
  static const std::vector<std::string> cols = {"epoch",        "train_loss", "train_accuracy", "val_loss",
                                                "val_accuracy", "lr",         "seconds",        "images_per_second"};
  return cols;
}

void write_metrics_files(const std::string& dir, const nlohmann::json& history) {
  std::ostringstream jsonl, csv;
  const auto& cols = metric_columns();
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

}  // namespace cnnkit
