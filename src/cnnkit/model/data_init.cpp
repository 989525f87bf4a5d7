#include "cnnkit/model/data_init.h"

#include <torch/torch.h>

#include <cstdio>

#include "cnnkit/core/error.h"

namespace cnnkit {
namespace {

constexpr std::int64_t kChunk = 250;  // images per step of the patch statistics (bounds memory)

bool is_whitening(const BuiltLayer& layer) {
  return layer.type == "conv2d" && layer.params.is_object() && layer.params.value("init", "") == "patch_whitening";
}

torch::nn::Conv2dImpl* find_conv(const BuiltLayer& layer) {
  for (const auto& m : layer.module.ptr()->modules(/*include_self=*/true))
    if (auto* conv = m->as<torch::nn::Conv2d>()) return conv;
  return nullptr;
}

// Σ p·pᵀ over the kh×kw patches of x [N, C, H, W] (float64 [d, d]) and the number of patches.
std::pair<torch::Tensor, std::int64_t> patch_moments(const torch::Tensor& x, std::int64_t kh, std::int64_t kw) {
  const std::int64_t c = x.size(1);
  const std::int64_t d = c * kh * kw;
  auto sum = torch::zeros({d, d}, torch::TensorOptions().dtype(torch::kFloat64).device(x.device()));
  std::int64_t count = 0;
  for (std::int64_t s = 0; s < x.size(0); s += kChunk) {
    auto part = x.slice(0, s, std::min(x.size(0), s + kChunk)).to(torch::kFloat32).contiguous();
    // [n, C, H', W', kh, kw] -> [n, H', W', C, kh, kw] -> [patches, d] (channel-major, as conv weights)
    auto p = part.unfold(2, kh, 1).unfold(3, kw, 1).permute({0, 2, 3, 1, 4, 5}).reshape({-1, d});
    sum += torch::mm(p.t(), p).to(torch::kFloat64);
    count += p.size(0);
  }
  return {sum, count};
}

}  // namespace

bool needs_data_init(const Model& model) {
  for (const auto& ref : model.all_layers())
    if (is_whitening(*ref.layer)) return true;
  return false;
}

std::vector<std::string> initialise_from_data(Model& model, const torch::Tensor& images) {
  for (const auto& ref : model.all_layers()) {
    if (is_whitening(*ref.layer) && ref.path.find('.') != std::string::npos) {
      throw ConfigError("layer " + ref.path + " ('" + ref.layer->name +
                        "'): init \"patch_whitening\" is supported in top-level conv2d layers only, not inside a "
                        "residual body");
    }
  }
  std::vector<std::string> lines;
  torch::NoGradGuard no_grad;
  const bool was_training = model.net->is_training();
  model.net->eval();
  torch::Tensor x = images;
  for (std::size_t i = 0; i < model.layers.size(); ++i) {
    BuiltLayer& layer = model.layers[i];
    if (is_whitening(layer)) {
      torch::nn::Conv2dImpl* conv = find_conv(layer);
      if (!conv) throw TrainingError("layer " + std::to_string(i) + " ('" + layer.name + "') holds no convolution");
      const std::int64_t filters = conv->weight.size(0), c = conv->weight.size(1);
      const std::int64_t kh = conv->weight.size(2), kw = conv->weight.size(3), d = c * kh * kw;
      auto [sum, count] = patch_moments(x, kh, kw);
      const torch::Tensor cov = sum / static_cast<double>(std::max<std::int64_t>(1, count));
      torch::Tensor eigenvalues, eigenvectors;
      try {
        std::tie(eigenvalues, eigenvectors) = torch::linalg::eigh(cov.cpu(), "U");
      } catch (const c10::Error& e) {
        throw TrainingError("layer " + std::to_string(i) + " ('" + layer.name +
                            "'): patch whitening: cannot decompose the patch covariance: " +
                            std::string(e.what_without_backtrace()).substr(0, 200));
      }
      // Largest eigenvalue first; eigenvectors are the columns.
      eigenvalues = eigenvalues.flip(0).clamp_min(0);
      eigenvectors = eigenvectors.flip(1);
      const double eps = layer.params.value("whitening_eps", 5e-4);
      auto w = (eigenvectors.t() / torch::sqrt(eigenvalues + eps).unsqueeze(1)).reshape({d, c, kh, kw});
      if (filters == 2 * d) w = torch::cat({w, -w});
      else w = w.slice(0, 0, filters);
      conv->weight.copy_(w.to(conv->weight.scalar_type()));
      if (conv->bias.defined()) conv->bias.zero_();
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    "layer %zu (%s): patch whitening from %lld patches of %lld images (%lldx%lldx%lld), "
                    "eigenvalues %.3g .. %.3g",
                    i, layer.name.c_str(), static_cast<long long>(count), static_cast<long long>(images.size(0)),
                    static_cast<long long>(kh), static_cast<long long>(kw), static_cast<long long>(c),
                    eigenvalues[0].item<double>(), eigenvalues[d - 1].item<double>());
      lines.push_back(buf);
    }
    // Only as far as the last layer that needs its input.
    bool more = false;
    for (std::size_t j = i + 1; j < model.layers.size(); ++j) more = more || is_whitening(model.layers[j]);
    if (!more) break;
    torch::Tensor next;
    for (std::int64_t s = 0; s < x.size(0); s += kChunk) {
      auto part = layer.module.forward(x.slice(0, s, std::min(x.size(0), s + kChunk)));
      next = next.defined() ? torch::cat({next, part}) : part;
    }
    x = next;
  }
  if (was_training) model.net->train();
  return lines;
}

}  // namespace cnnkit
