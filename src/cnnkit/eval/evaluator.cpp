#include "cnnkit/eval/evaluator.h"
#include "cnnkit/eval/evaluation_report.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <cstdio>
#include <sstream>

#include "cnnkit/core/error.h"
#include "cnnkit/data/augment.h"
#include "cnnkit/eval/forward.h"

namespace cnnkit {

namespace {

// Sums over the batches of one evaluation, kept on the device until the end.
struct Totals {
  torch::Tensor loss_sum, top1, top5, confusion;
  std::int64_t k = 0;
  Totals(std::int64_t classes, c10::Device device) : k(classes) {
    auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(device);
    auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(device);
    loss_sum = torch::zeros({}, f64);
    top1 = torch::zeros({}, i64);
    top5 = torch::zeros({}, i64);
    confusion = torch::zeros({k * k}, i64);
  }
  void add(const torch::Tensor& logits, const torch::Tensor& y) {
    loss_sum += torch::nn::functional::cross_entropy(
                    logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .to(torch::kFloat64);
    auto pred = logits.argmax(1);
    top1 += pred.eq(y).sum();
    auto topk = std::get<1>(logits.topk(std::min<std::int64_t>(5, k), 1));
    top5 += topk.eq(y.unsqueeze(1)).any(1).sum();
    confusion.index_add_(0, y * k + pred, torch::ones_like(y));
  }
  void fill(EvalResult& r) const {
    const double n = static_cast<double>(std::max<std::int64_t>(1, r.count));
    r.loss = loss_sum.item<double>() / n;
    r.top1 = static_cast<double>(top1.item<std::int64_t>()) / n;
    r.top5 = static_cast<double>(top5.item<std::int64_t>()) / n;
    r.confusion = confusion.view({k, k}).cpu();
  }
};

}  // namespace

torch::Tensor tta_logits(Model& model, const torch::Tensor& x, const torch::Tensor& plain, const EvalOptions& o) {
  auto f = [&](const torch::Tensor& v) { return forward_logits(model, v, o.channels_last, o.bf16); };
  // m(v): the logits of v, averaged with those of its mirror image when flipping.
  auto m = [&](const torch::Tensor& v, const torch::Tensor& known) {
    torch::Tensor a = known.defined() ? known : f(v);
    return o.tta.flip ? (a + f(v.flip({3}))) / 2 : a;
  };
  torch::Tensor out = m(x, plain);
  const std::int64_t t = o.tta.translate;
  if (t > 0) {
    if (t >= x.size(2) || t >= x.size(3)) {
      throw DataError("test-time augmentation: translate " + std::to_string(t) + " must be smaller than the image (" +
                      std::to_string(x.size(2)) + "×" + std::to_string(x.size(3)) + ")");
    }
    const std::int64_t b = x.size(0);
    auto zero = torch::zeros({b}, torch::kInt64), two_t = torch::full({b}, 2 * t, torch::kInt64);
    // crop_at offset 0: output (y, x) = input (y − t, x − t); offset 2t: input (y + t, x + t).
    out = 0.5 * out + 0.25 * m(crop_at(x, t, /*reflect=*/true, zero, zero), {}) +
          0.25 * m(crop_at(x, t, /*reflect=*/true, two_t, two_t), {});
  }
  return out;
}

EvalResult evaluate(Model& model, const ImageSet& set, const BatchPipeline& pipeline, c10::Device device,
                    const std::vector<std::string>& class_names, const EvalOptions& options) {
  const std::int64_t k = model.num_outputs();
  EvalResult r;
  r.class_names = class_names;
  r.count = set.size();
  torch::InferenceMode guard;
  bool was_training = model.net->is_training();
  model.net->eval();
  Totals plain(k, device), tta(k, device);
  const bool with_tta = options.tta.enabled();
  at::Generator gen = at::detail::createCPUGenerator(0);
  const std::int64_t first = set.size() * options.part / options.parts;
  const std::int64_t last = set.size() * (options.part + 1) / options.parts;
  for (std::int64_t start = first; start < last; start += options.batch_size) {
    std::int64_t end = std::min(last, start + options.batch_size);
    auto idx = torch::arange(start, end, torch::kInt64);
    auto x = pipeline.batch(set, idx, false, gen);
    auto y = set.labels.index_select(0, idx).to(device);
    auto logits = forward_logits(model, x, options.channels_last, options.bf16);
    plain.add(logits, y);
    if (with_tta) tta.add(tta_logits(model, x, logits, options), y);
  }
  if (options.sum_across) {
    options.sum_across({plain.loss_sum, plain.top1, plain.top5, plain.confusion});
    if (with_tta) options.sum_across({tta.loss_sum, tta.top1, tta.top5, tta.confusion});
  }
  if (was_training) model.net->train();
  plain.fill(r);
  if (with_tta) {
    r.tta_options = options.tta;
    r.tta = std::make_shared<EvalResult>();
    r.tta->count = r.count;
    r.tta->class_names = class_names;
    tta.fill(*r.tta);
  }
  return r;
}

nlohmann::json EvalResult::to_json() const {
  nlohmann::json j;
  j["count"] = count;
  j["loss"] = loss;
  j["accuracy"] = top1;
  j["top5_accuracy"] = top5;
  const std::int64_t k = confusion.size(0);
  auto c = confusion.accessor<std::int64_t, 2>();
  nlohmann::json per_class = nlohmann::json::array();
  double macro_f1 = 0;
  for (std::int64_t i = 0; i < k; ++i) {
    std::int64_t tp = c[i][i], support = 0, predicted = 0;
    for (std::int64_t t = 0; t < k; ++t) {
      support += c[i][t];
      predicted += c[t][i];
    }
    double precision = predicted ? static_cast<double>(tp) / predicted : 0.0;
    double recall = support ? static_cast<double>(tp) / support : 0.0;
    double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
    macro_f1 += f1;
    std::string name = i < static_cast<std::int64_t>(class_names.size()) ? class_names[i] : std::to_string(i);
    per_class.push_back({{"class", i}, {"name", name}, {"precision", precision}, {"recall", recall}, {"f1", f1},
                         {"support", support}});
  }
  j["macro_f1"] = k ? macro_f1 / static_cast<double>(k) : 0.0;
  j["per_class"] = per_class;
  nlohmann::json rows = nlohmann::json::array();
  for (std::int64_t i = 0; i < k; ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (std::int64_t t = 0; t < k; ++t) row.push_back(c[i][t]);
    rows.push_back(row);
  }
  j["confusion_matrix"] = rows;
  j["confusion_matrix_layout"] = "rows: true class, columns: predicted class";
  if (tta) {
    const nlohmann::json t = tta->to_json();
    j["tta"] = {{"flip", tta_options.flip},         {"translate", tta_options.translate},
                {"views", tta_options.views()},     {"count", t["count"]},
                {"loss", t["loss"]},                {"accuracy", t["accuracy"]},
                {"top5_accuracy", t["top5_accuracy"]}, {"macro_f1", t["macro_f1"]}};
  }
  return j;
}

std::string format_evaluation(const nlohmann::json& j) { return format_evaluation(j, false); }

std::string format_evaluation(const nlohmann::json& j, bool normalize) {
  std::ostringstream out;
  char buf[256];
  std::snprintf(buf, sizeof buf, "images: %lld   loss: %.4f   accuracy: %.2f%%   top-5: %.2f%%   macro F1: %.4f\n\n",
                static_cast<long long>(j["count"].get<std::int64_t>()), j["loss"].get<double>(),
                100 * j["accuracy"].get<double>(), 100 * j["top5_accuracy"].get<double>(), j["macro_f1"].get<double>());
  out << buf;
  if (j.contains("tta")) {
    const auto& t = j["tta"];
    TtaOptions o;
    o.flip = t["flip"].get<bool>();
    o.translate = t["translate"].get<std::int64_t>();
    std::snprintf(buf, sizeof buf, "with test-time augmentation, %s:   loss: %.4f   accuracy: %.2f%%   top-5: %.2f%%\n\n",
                  o.describe().c_str(), t["loss"].get<double>(), 100 * t["accuracy"].get<double>(),
                  100 * t["top5_accuracy"].get<double>());
    out << buf;
  }
  std::size_t w = 5;
  for (const auto& c : j["per_class"]) w = std::max(w, c["name"].get<std::string>().size());
  std::snprintf(buf, sizeof buf, "%-*s  %9s  %9s  %9s  %8s\n", static_cast<int>(w), "class", "precision", "recall",
                "f1", "support");
  out << buf;
  for (const auto& c : j["per_class"]) {
    std::snprintf(buf, sizeof buf, "%-*s  %9.4f  %9.4f  %9.4f  %8lld\n", static_cast<int>(w),
                  c["name"].get<std::string>().c_str(), c["precision"].get<double>(), c["recall"].get<double>(),
                  c["f1"].get<double>(), static_cast<long long>(c["support"].get<std::int64_t>()));
    out << buf;
  }
  const auto& cm = j["confusion_matrix"];
  const std::size_t k = cm.size();
  out << "\nconfusion matrix (rows: true class, columns: predicted class"
      << (normalize ? ", % of the true class)\n" : ", images)\n");
  std::vector<std::string> row_names;
  std::size_t rw = 0;
  for (std::size_t i = 0; i < k; ++i) {
    const std::string name = j["per_class"][i]["name"].get<std::string>();
    row_names.push_back(name == std::to_string(i) ? name : std::to_string(i) + " " + name);
    rw = std::max(rw, row_names.back().size());
  }
  std::vector<std::vector<std::string>> cells(k);
  std::size_t cw = std::to_string(k ? k - 1 : 0).size();
  for (std::size_t i = 0; i < k; ++i) {
    std::int64_t sum = 0;
    for (const auto& v : cm[i]) sum += v.get<std::int64_t>();
    for (const auto& v : cm[i]) {
      const std::int64_t n = v.get<std::int64_t>();
      if (normalize) {
        std::snprintf(buf, sizeof buf, "%.1f", sum ? 100.0 * static_cast<double>(n) / static_cast<double>(sum) : 0.0);
        cells[i].push_back(sum ? buf : "-");
      } else {
        cells[i].push_back(std::to_string(n));
      }
      cw = std::max(cw, cells[i].back().size());
    }
  }
  out << std::string(rw, ' ');
  for (std::size_t c = 0; c < k; ++c) {
    std::snprintf(buf, sizeof buf, "  %*zu", static_cast<int>(cw), c);
    out << buf;
  }
  out << "\n";
  for (std::size_t i = 0; i < k; ++i) {
    std::snprintf(buf, sizeof buf, "%-*s", static_cast<int>(rw), row_names[i].c_str());
    out << buf;
    for (const auto& cell : cells[i]) {
      std::snprintf(buf, sizeof buf, "  %*s", static_cast<int>(cw), cell.c_str());
      out << buf;
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace cnnkit
