#include "cnnkit/train/observers/json_events.h"

namespace cnnkit {

void JsonEventsObserver::on_epoch_end(TrainingRun&, const EpochReport& r) {
  nlohmann::json line = r.row;
  line["event"] = "epoch";
  out_ << line.dump() << std::endl;
}

}  // namespace cnnkit
