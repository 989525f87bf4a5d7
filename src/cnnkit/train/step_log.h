// steps.csv in a run directory: the training loss, accuracy and learning rate between epochs,
// so that a one- or two-epoch run draws a curve, not two dots. Each row covers an interval of
// optimizer steps (mean loss and accuracy over its images, the learning rate of its last step).
// The file stays bounded: when it would exceed kMaxStepRows rows, neighbouring rows are merged
// in pairs and the interval doubles, so a long run keeps between kMaxStepRows/2 and
// kMaxStepRows rows spread over the whole run.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace cnnkit {

struct StepRow {
  std::int64_t step = 0;    // optimizer steps taken at the end of the interval
  double epoch = 0;         // progress in epochs at its end: (epoch - 1) + batch / steps_per_epoch
  std::int64_t images = 0;  // images in the interval
  double loss = 0, accuracy = 0, lr = 0;
};

constexpr std::size_t kMaxStepRows = 2000;

// Header: step,epoch,images,loss,accuracy,lr
std::string step_log_csv(const std::vector<StepRow>& rows);
void write_step_log(const std::string& path, const std::vector<StepRow>& rows);
// The rows of `path`; a missing file gives no rows. Lines that do not parse (a file from
// another version, edited by hand) are skipped.
std::vector<StepRow> read_step_log(const std::string& path);

// Merges rows 2i and 2i+1 (image-weighted means; the later row's step, epoch and lr). An odd
// last row stays as it is.
void merge_step_pairs(std::vector<StepRow>& rows);

}  // namespace cnnkit
