#include "cnnkit/core/runtime_info.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>
#include <torch/version.h>

#ifdef CNNKIT_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

#include <fstream>
#include <set>
#include <sstream>

#include "cnnkit/core/allocator.h"
#include "cnnkit/core/strings.h"
#include "cnnkit/core/threads.h"

namespace cnnkit {
namespace {

std::string cpu_flags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("flags", 0) == 0) return line;
  return "";
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return trim(line.substr(line.find(':') + 1));
  return "unknown";
}

// The BLAS shared objects mapped into this process (after LibTorch loaded), e.g.
// /usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3.
std::vector<std::string> loaded_blas() {
  std::ifstream in("/proc/self/maps");
  std::set<std::string> libs;
  std::string line;
  while (std::getline(in, line)) {
    auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string path = line.substr(slash);
    std::string base = path.substr(path.rfind('/') + 1);
    if (base.find("blas") != std::string::npos || base.find("mkl_") != std::string::npos) libs.insert(path);
  }
  return {libs.begin(), libs.end()};
}

std::string config_line(const std::string& config, const std::string& key) {
  std::istringstream in(config);
  std::string line;
  while (std::getline(in, line)) {
    auto pos = line.find(key);
    if (pos != std::string::npos) {
      std::string rest = line.substr(pos + key.size());
      return trim(rest.substr(0, rest.find(',')));
    }
  }
  return "";
}

}  // namespace

bool cpu_has_bf16() { return cpu_flags().find("avx512_bf16") != std::string::npos; }

nlohmann::json runtime_info() {
  nlohmann::json j;
  j["cnnkit_version"] = CNNKIT_VERSION;
  j["libtorch_version"] = TORCH_VERSION;
#ifdef CNNKIT_WITH_OPENCV
  j["opencv"] = true;
#else
  j["opencv"] = false;
#endif
  j["cuda_compiled"] = at::hasCUDA();
  j["cuda_available"] = torch::cuda::is_available();
  j["cudnn_available"] = torch::cuda::cudnn_is_available();
  nlohmann::json gpus = nlohmann::json::array();
  std::int64_t count = torch::cuda::is_available() ? static_cast<std::int64_t>(torch::cuda::device_count()) : 0;
  for (std::int64_t i = 0; i < count; ++i) {
    nlohmann::json g{{"index", i}};
#ifdef CNNKIT_WITH_CUDA
    auto* props = at::cuda::getDeviceProperties(static_cast<int>(i));
    g["name"] = props->name;
    g["memory_bytes"] = props->totalGlobalMem;
    g["compute_capability"] = std::to_string(props->major) + "." + std::to_string(props->minor);
#endif
    gpus.push_back(g);
  }
  j["gpus"] = gpus;
  j["cpu"] = cpu_model();
  j["physical_cores"] = physical_core_count();
  j["intra_op_threads"] = at::get_num_threads();
  j["inter_op_threads"] = at::get_num_interop_threads();
  j["onednn"] = at::hasMKLDNN();
  j["mkl"] = at::hasMKL();
  j["openmp"] = at::hasOpenMP();
  std::string config = at::show_config();
  j["cpu_capability"] = config_line(config, "CPU capability usage:");
  j["blas_build"] = config_line(config, "BLAS_INFO=");
  j["blas_loaded"] = loaded_blas();
  j["cpu_bf16"] = cpu_has_bf16();
  j["host_allocator"] = configure_allocator();
  return j;
}

}  // namespace cnnkit
