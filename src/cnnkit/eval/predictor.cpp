#include "cnnkit/eval/predictor.h"

#include <torch/torch.h>

#include "cnnkit/core/error.h"
#include "cnnkit/eval/forward.h"
#include "cnnkit/io/image_io.h"

namespace cnnkit {

Predictor::Predictor(TrainedModel trained, c10::Device device, int top_k)
    : model_(std::move(trained.model)),
      class_names_(std::move(trained.class_names)),
      pipeline_(std::make_unique<BatchPipeline>(trained.config, trained.normalization, device)),
      device_(device),
      top_k_(top_k) {
  model_.net->to(device_);
  model_.net->eval();
}

std::vector<nlohmann::json> Predictor::predict(const std::vector<std::string>& paths) {
  std::vector<nlohmann::json> out(paths.size());
  std::vector<torch::Tensor> images;
  std::vector<std::size_t> where;
  const ImageSize size{model_.input.height(), model_.input.width()};
  for (std::size_t i = 0; i < paths.size(); ++i) {
    try {
      images.push_back(read_image(paths[i], static_cast<int>(model_.input.channels()), size));
      where.push_back(i);
    } catch (const Error& e) {
      out[i] = {{"path", paths[i]}, {"error", e.what()}};
    }
  }
  if (images.empty()) return out;
  torch::InferenceMode guard;
  at::Generator gen = at::detail::createCPUGenerator(0);
  auto x = pipeline_->prepare(torch::stack(images), false, gen);
  auto probs = torch::softmax(forward_logits(model_, x, false, false), 1).cpu();
  const std::int64_t k = std::min<std::int64_t>(top_k_, probs.size(1));
  auto [values, indices] = probs.topk(k, 1);
  auto name = [&](std::int64_t c) { return class_names_.at(static_cast<std::size_t>(c)); };
  for (std::size_t j = 0; j < where.size(); ++j) {
    nlohmann::json top = nlohmann::json::array();
    for (std::int64_t t = 0; t < k; ++t) {
      std::int64_t c = indices[j][t].item<std::int64_t>();
      top.push_back({{"class", c}, {"name", name(c)}, {"probability", values[j][t].item<double>()}});
    }
    out[where[j]] = {{"path", paths[where[j]]},
                     {"class", top[0]["class"]},
                     {"name", top[0]["name"]},
                     {"probability", top[0]["probability"]},
                     {"top_k", top}};
  }
  return out;
}

}  // namespace cnnkit
