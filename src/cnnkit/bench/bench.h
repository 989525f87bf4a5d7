// `cnnkit bench`: training and inference speed of a config's model on synthetic input, against
// this machine's dense matmul throughput measured in the same run (the practical ceiling), plus
// the data pipeline alone and, optionally, a per-layer forward/backward profile. The machines
// are shared and noisy, so segments are interleaved (matmul, train, inference, ...) over
// several rounds and medians are reported.
#pragma once
#include <string>

#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "cnnkit/config/config.h"
#include "cnnkit/data/dataset.h"

namespace cnnkit {

struct BenchOptions {
  int batch = 0;              // 0: the config's training.batch_size
  int rounds = 5;             // interleaved rounds
  double segment_seconds = 1.0;  // target length of each measured segment
  int matmul_size = 2048;
  bool layers = false;        // per-layer forward/backward profile
  bool data = true;           // measure the data pipeline (needs the dataset)
  DataLoadOptions data_load;
};

nlohmann::json run_bench(const Config& config, c10::Device device, const BenchOptions& options);
std::string format_bench(const nlohmann::json& result);

}  // namespace cnnkit
