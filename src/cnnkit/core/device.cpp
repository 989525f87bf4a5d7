#include "cnnkit/core/device.h"

#include <torch/cuda.h>

#include "cnnkit/core/error.h"

namespace cnnkit {

c10::Device resolve_device(const std::string& spec) {
  if (spec == "auto") {
    return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  }
  if (spec == "cpu") return c10::Device(c10::kCPU);
  if (spec == "cuda" || spec.rfind("cuda:", 0) == 0) {
    int index = 0;
    if (spec.size() > 4) {
      std::string digits = spec.substr(5);
      if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos ||
          digits.size() > 3) {
        throw UsageError("--device " + spec + ": expected auto, cpu, cuda or cuda:N with N a GPU index");
      }
      index = std::stoi(digits);
    }
    if (!torch::cuda::is_available()) {
      throw UsageError("--device " + spec +
                       ": CUDA is not available (this LibTorch build has no CUDA, or no GPU is "
                       "visible); use --device cpu or auto");
    }
    int count = static_cast<int>(torch::cuda::device_count());
    if (index >= count) {
      throw UsageError("--device " + spec + ": no such GPU; " + std::to_string(count) +
                       " visible (cuda:0 to cuda:" + std::to_string(count - 1) + ")");
    }
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw UsageError("--device " + spec + ": expected auto, cpu, cuda or cuda:N");
}

}  // namespace cnnkit
