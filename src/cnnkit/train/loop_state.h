// The training loop's state: everything a resumed run needs to continue exactly where the
// interrupted one stopped (epoch, step, learning-rate factor, the policies' patience, the best
// epoch, the position inside an epoch). Stored as JSON in every checkpoint ("train_state").
#pragma once
#include <cstdint>
#include <string>

#include <torch/types.h>
#include <nlohmann/json.hpp>

namespace cnnkit {

// Whether a watched metric improves: loss-like metrics must fall, the others rise.
bool lower_is_better(const std::string& metric);

// Patience (Keras and Lightning semantics): an epoch improves on the best value seen when it
// beats it by more than min_delta; `bad_epochs` counts the epochs since the last improvement.
struct Patience {
  double best = NAN;  // NAN: nothing seen yet
  int bad_epochs = 0;
  // Records `value`; returns true when it is an improvement.
  bool observe(double value, const std::string& metric, double min_delta);
  // True after `patience` epochs in a row without improvement.
  bool exhausted(int patience) const { return bad_epochs >= patience; }
  nlohmann::json to_json() const;
  void from_json(const nlohmann::json& j);
};

// Where an interrupted epoch stopped, so it can be finished after a resume.
struct PartialEpoch {
  std::int64_t batch = 0;  // batches done; 0 = none (the epoch starts afresh)
  double loss_sum = 0.0;
  std::int64_t correct = 0, seen = 0;
  double seconds = 0.0;
  torch::Tensor perm;  // the epoch's permutation of the training images
};

struct LoopState {
  int epoch = 0;           // completed epochs
  std::int64_t step = 0;   // optimizer steps taken
  double lr_factor = 1.0;  // reduce-on-plateau's multiplier of the scheduled rate
  Patience plateau, early;
  double best_val_accuracy = -1.0;
  int best_epoch = 0;
  double elapsed = 0.0;  // training seconds so far, across resumes
  PartialEpoch partial;

  nlohmann::json to_json() const;  // without the permutation (a tensor, stored beside it)
  // Throws nlohmann::json exceptions for a malformed object (the caller names the file).
  void from_json(const nlohmann::json& j);
};

}  // namespace cnnkit
