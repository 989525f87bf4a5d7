#include "cnnkit/train/loop_state.h"

#include <cmath>

namespace cnnkit {

bool lower_is_better(const std::string& metric) { return metric.find("loss") != std::string::npos; }

bool Patience::observe(double value, const std::string& metric, double min_delta) {
  const bool better =
      std::isnan(best) || (lower_is_better(metric) ? value < best - min_delta : value > best + min_delta);
  if (better) {
    best = value;
    bad_epochs = 0;
  } else {
    ++bad_epochs;
  }
  return better;
}

nlohmann::json Patience::to_json() const {
  return {{"best", std::isnan(best) ? nlohmann::json() : nlohmann::json(best)}, {"bad_epochs", bad_epochs}};
}

void Patience::from_json(const nlohmann::json& j) {
  best = j.at("best").is_null() ? NAN : j.at("best").get<double>();
  bad_epochs = j.at("bad_epochs").get<int>();
}

nlohmann::json LoopState::to_json() const {
  nlohmann::json j = {{"epoch", epoch},
                      {"step", step},
                      {"lr_factor", lr_factor},
                      {"plateau", plateau.to_json()},
                      {"early_stopping", early.to_json()},
                      {"best_val_accuracy", best_val_accuracy},
                      {"best_epoch", best_epoch},
                      {"elapsed_seconds", elapsed}};
  if (partial.batch > 0) {
    j["partial"] = {{"batch", partial.batch},
                    {"loss_sum", partial.loss_sum},
                    {"correct", partial.correct},
                    {"seen", partial.seen},
                    {"seconds", partial.seconds}};
  }
  return j;
}

void LoopState::from_json(const nlohmann::json& j) {
  epoch = j.at("epoch").get<int>();
  step = j.at("step").get<std::int64_t>();
  lr_factor = j.at("lr_factor").get<double>();
  plateau.from_json(j.at("plateau"));
  early.from_json(j.at("early_stopping"));
  best_val_accuracy = j.at("best_val_accuracy").get<double>();
  best_epoch = j.at("best_epoch").get<int>();
  elapsed = j.value("elapsed_seconds", 0.0);
  partial = PartialEpoch{};
  if (j.contains("partial")) {
    const auto& p = j.at("partial");
    partial.batch = p.at("batch").get<std::int64_t>();
    partial.loss_sum = p.at("loss_sum").get<double>();
    partial.correct = p.at("correct").get<std::int64_t>();
    partial.seen = p.at("seen").get<std::int64_t>();
    partial.seconds = p.value("seconds", 0.0);
  }
}

}  // namespace cnnkit
