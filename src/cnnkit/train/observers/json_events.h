// --json: one JSON line per epoch ({"event": "epoch", ...the metrics row}) on a stream the
// command chooses (stdout); the command prints the final line itself.
#pragma once
#include <ostream>

#include "cnnkit/train/observer.h"

namespace cnnkit {

class JsonEventsObserver : public TrainingObserver {
 public:
  explicit JsonEventsObserver(std::ostream& out) : out_(out) {}
  void on_epoch_end(TrainingRun&, const EpochReport& r) override;

 private:
  std::ostream& out_;
};

}  // namespace cnnkit
