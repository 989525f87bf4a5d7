#include "cnnkit/eval/forward.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

namespace cnnkit {

namespace {

// LibTorch 2.4 made the autocast switches device-generic (set_autocast_enabled(device, on),
// set_autocast_dtype(device, dtype)) and deprecated the per-device ones (set_enabled,
// set_cpu_enabled, set_autocast_{gpu,cpu}_dtype), which then print a deprecation warning when
// called. 1.13 has only the per-device ones.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
void set_autocast(c10::DeviceType device, bool enabled) {
  if (enabled) at::autocast::set_autocast_dtype(device, at::kBFloat16);
  at::autocast::set_autocast_enabled(device, enabled);
}
#else
void set_autocast(c10::DeviceType device, bool enabled) {
  if (device == c10::kCUDA) {
    if (enabled) at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
    at::autocast::set_enabled(enabled);
  } else {
    if (enabled) at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(enabled);
  }
}
#endif

// Enables bf16 autocast for the device of `x` for the guard's lifetime.
struct AutocastGuard {
  c10::DeviceType device = c10::kCPU;
  bool on = false;
  AutocastGuard(bool enable, const torch::Tensor& x) : device(x.is_cuda() ? c10::kCUDA : c10::kCPU), on(enable) {
    if (on) set_autocast(device, true);
  }
  ~AutocastGuard() {
    if (!on) return;
    set_autocast(device, false);
    at::autocast::clear_cache();
  }
};
}  // namespace

torch::Tensor forward_logits(Model& model, const torch::Tensor& x, bool channels_last, bool bf16) {
  torch::Tensor in = channels_last && x.dim() == 4 ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
  torch::Tensor out;
  {
    AutocastGuard guard(bf16, in);
    out = model.net->forward(in);
  }
  return out.dim() > 2 ? out.flatten(1).to(torch::kFloat32) : out.to(torch::kFloat32);
}

void to_channels_last(Model& model) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.net->parameters())
    if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
}

}  // namespace cnnkit
