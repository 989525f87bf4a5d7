// `cnnkit bench --nproc N` (or the same under torchrun/srun/mpirun): the speed of data-parallel
// training against one process, measured in one run on synthetic input. Every rank runs it.
//
// Each round interleaves two segments of training steps on the same global batch (the config's
// training.batch_size, or --batch-size):
//   one process:   rank 0 alone trains on the whole batch with every core of its machine
//                  (threads x local processes), while the other ranks wait in a barrier;
//   N processes:   every rank trains its shard with its share of the cores, through the real
//                  step (TrainStep + DataParallel: buffer broadcast, gradient buckets).
// Reported (medians over the rounds, as the machines are noisy): step time, images/s, and the
// share of a data-parallel step spent blocked in communication (DataParallel's collectives:
// gradient buckets not yet reduced when backward ends, the batch-norm buffer broadcast),
// averaged over ranks; plus the bytes all-reduced and broadcast per step and the buckets.
#pragma once
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "cnnkit/bench/bench.h"
#include "cnnkit/config/config.h"
#include "cnnkit/dist/context.h"
#include "cnnkit/dist/launch_env.h"

namespace cnnkit {

// Returns the same document on every rank.
nlohmann::json run_dist_bench(const Config& config, c10::Device device, const BenchOptions& options,
                              const dist::LaunchInfo& launch, dist::ContextOptions context);
std::string format_dist_bench(const nlohmann::json& result);

}  // namespace cnnkit
