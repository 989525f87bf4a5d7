#include "cnnkit/eval/forward.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

namespace cnnkit {

namespace {
// Enables autocast for the device of `x` for the guard's lifetime.
struct AutocastGuard {
  bool cpu = false, cuda = false;
  AutocastGuard(bool enable, const torch::Tensor& x) {
    if (!enable) return;
    if (x.is_cuda()) {
      at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
      at::autocast::set_enabled(true);
      cuda = true;
    } else {
      at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
      at::autocast::set_cpu_enabled(true);
      cpu = true;
    }
  }
  ~AutocastGuard() {
    if (cpu) at::autocast::set_cpu_enabled(false);
    if (cuda) at::autocast::set_enabled(false);
    if (cpu || cuda) at::autocast::clear_cache();
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
