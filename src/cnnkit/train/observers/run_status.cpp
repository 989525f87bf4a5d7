// The run's state for `cnnkit runs` and for the commands that default to the latest run:
// keeps status.json current (running -> finished | interrupted | failed) and points the
// `latest` link next to the run at it. "Running" itself is the run lock (RunDirLock, taken by
// train_model before any observer runs), not this file.
#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <memory>

#include <unistd.h>

#include "cnnkit/train/observer.h"
#include "cnnkit/train/run_dir.h"

namespace cnnkit {
namespace {

class RunStatus : public TrainingObserver {
 public:
  RunStatus() : exceptions_at_start_(std::uncaught_exceptions()) {}

  // A run that ends by an exception (other than an interrupt, which says so first) failed.
  ~RunStatus() override {
    if (!dir_.empty() && status_["status"] == "running" && std::uncaught_exceptions() > exceptions_at_start_) {
      try {
        end("failed");
      } catch (...) {  // never throw while unwinding
      }
    }
  }

  void on_train_begin(TrainingRun& run) override {
    dir_ = run.run_dir;
    session_start_ = std::chrono::steady_clock::now();
    nlohmann::json previous = nlohmann::json::object();
    try {
      if (auto s = read_run_status(dir_); s && s->is_object()) previous = *s;
    } catch (const std::exception&) {  // a damaged status file is replaced
    }
    // What a resumed run keeps from its previous sessions (defaults when the file is damaged).
    auto kept = [&previous](const char* key, auto fallback) {
      try {
        return previous.value(key, fallback);
      } catch (const nlohmann::json::exception&) {
        return fallback;
      }
    };
    const std::string now = iso_time_now();
    status_ = {{"status", "running"},
               {"started", kept("started", now)},
               {"session_started", now},
               {"wall_seconds", kept("wall_seconds", 0.0)},
               {"pid", static_cast<long long>(::getpid())},
               {"cnnkit_version", CNNKIT_VERSION}};
    if (previous.contains("status")) status_["sessions"] = kept("sessions", 1) + 1;  // resumed
    write_run_status(dir_, status_);
    if (!point_latest_at(dir_))
      spdlog::warn("{}: not pointing 'latest' at this run: a file that is not a symlink has that name", dir_);
  }

  void on_interrupt(TrainingRun& run, const InterruptEvent& e) override {
    status_["stopped_at"] = {{"epoch", e.epoch}, {"batch", e.batch}, {"signal", e.signal}};
    end("interrupted");
  }

  void on_train_end(TrainingRun&, const FinalReport&) override { end("finished"); }

 private:
  void end(const std::string& status) {
    const double session = std::chrono::duration<double>(std::chrono::steady_clock::now() - session_start_).count();
    status_["status"] = status;
    status_["ended"] = iso_time_now();
    status_["wall_seconds"] = status_.value("wall_seconds", 0.0) + session;
    write_run_status(dir_, status_);
  }

  int exceptions_at_start_;
  std::string dir_;
  nlohmann::json status_;
  std::chrono::steady_clock::time_point session_start_;
};

// First of all, so that status.json says "running" before the other observers write.
ObserverRegistrar registrar("run_status", 5, [](const TrainingRun&) { return std::make_unique<RunStatus>(); });

}  // namespace
}  // namespace cnnkit
