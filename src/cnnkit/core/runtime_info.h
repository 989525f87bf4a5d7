// Build and runtime facts for `cnnkit info` and for run records: versions, CUDA and GPUs,
// threads, oneDNN, the BLAS library actually loaded, CPU features (bf16).
#pragma once
#include <nlohmann/json.hpp>

namespace cnnkit {

nlohmann::json runtime_info();
bool cpu_has_bf16();

}  // namespace cnnkit
