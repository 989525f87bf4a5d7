#include "cnnkit/export/exporter.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include "cnnkit/core/sha256.h"
#include "cnnkit/core/strings.h"
#include "cnnkit/export/export_error.h"
#include "cnnkit/export/export_format.h"
#include "cnnkit/export/torchscript.h"

namespace cnnkit {
namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Registry

ExportFormatRegistry& ExportFormatRegistry::instance() {
  static ExportFormatRegistry registry;
  return registry;
}

void ExportFormatRegistry::add(std::unique_ptr<ExportFormat> format) {
  const std::string name = format->name();
  if (formats_.count(name)) throw std::logic_error("export format '" + name + "' registered twice");
  formats_[name] = std::move(format);
}

const ExportFormat* ExportFormatRegistry::find(const std::string& name) const {
  auto it = formats_.find(name);
  return it == formats_.end() ? nullptr : it->second.get();
}

std::vector<const ExportFormat*> ExportFormatRegistry::formats() const {
  std::vector<const ExportFormat*> out;
  for (const auto& [_, f] : formats_) out.push_back(f.get());
  std::stable_sort(out.begin(), out.end(), [](const auto* a, const auto* b) { return a->order() < b->order(); });
  return out;
}

std::vector<std::string> ExportFormatRegistry::names() const {
  std::vector<std::string> out;
  for (const auto* f : formats()) out.push_back(f->name());
  return out;
}

std::vector<std::string> export_format_names() { return ExportFormatRegistry::instance().names(); }

// ---------------------------------------------------------------------------------------------
// Context

ExportContext::ExportContext(const TrainedModel& trained_model, const ModuleTree& lowered, fs::path out,
                             bool normalize_inside, int onnx_opset)
    : trained(trained_model), tree(lowered), out_dir(std::move(out)), normalize(normalize_inside), opset(onnx_opset) {}

ExportContext::~ExportContext() {
  if (!temporary_file_.empty()) {
    std::error_code ignore;
    fs::remove(temporary_file_, ignore);
  }
}

namespace {

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// The TorchScript module must compute what the model computes: a random batch through both.
double max_difference(const TrainedModel& trained, torch::jit::Module& ts, bool normalize) {
  torch::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(20240611);
  const Shape& in = trained.model.input;
  torch::Tensor images = torch::rand({2, in.channels(), in.height(), in.width()}, gen);
  torch::Tensor x = images;
  if (normalize) {
    const auto c = in.channels();
    auto mean = torch::tensor(trained.normalization.mean, torch::kDouble).to(torch::kFloat).view({1, c, 1, 1});
    auto std = torch::tensor(trained.normalization.std, torch::kDouble).to(torch::kFloat).view({1, c, 1, 1});
    x = (images - mean) / std;
  }
  LayerStack net = trained.model.net;
  net->eval();
  const torch::Tensor expected = net->forward(x);
  const torch::Tensor got = ts.forward({images}).toTensor();
  if (got.sizes() != expected.sizes()) return std::numeric_limits<double>::infinity();
  const double scale = std::max(1.0, expected.abs().max().item<double>());
  return (got - expected).abs().max().item<double>() / scale;
}

}  // namespace

const torch::jit::Module& ExportContext::torchscript() {
  if (!torchscript_) {
    TorchScriptOptions o;
    o.normalize = normalize;
    o.normalization = trained.normalization;
    o.class_names = trained.class_names;
    torch::jit::Module m = to_torchscript(tree, o);
    double diff = 0;
    try {
      diff = max_difference(trained, m, normalize);
    } catch (const c10::Error& e) {
      throw ExportError("export: the TorchScript module fails to run (a bug in src/cnnkit/export): " +
                        first_line(e.what_without_backtrace()));
    }
    if (!(diff <= 1e-4)) {
      throw ExportError("export: the TorchScript module's outputs differ from the model's by " + std::to_string(diff) +
                        " (relative); not writing it (a bug in src/cnnkit/export)");
    }
    manifest["check"] = {{"torchscript_vs_model_max_difference", diff}};
    torchscript_ = m;
  }
  return *torchscript_;
}

std::string ExportContext::torchscript_metadata() const {
  nlohmann::json j;
  j["cnnkit_version"] = CNNKIT_VERSION;
  j["model"] = trained.config.name();
  j["class_names"] = trained.class_names;
  j["normalization"] = {
      {"mean", trained.normalization.mean}, {"std", trained.normalization.std}, {"built_in", normalize}};
  j["input_shape"] = trained.model.input.dims;
  j["source"] = manifest.value("source", nlohmann::json::object());
  return j.dump(2);
}

fs::path ExportContext::torchscript_file() {
  if (!torchscript_file_.empty()) return torchscript_file_;
  temporary_file_ = out_dir / ".model.ts.for-onnx.tmp";
  try {
    torchscript().save(temporary_file_.string());
  } catch (const c10::Error& e) {
    throw ExportError(temporary_file_.string() + ": cannot write: " + first_line(e.what_without_backtrace()));
  }
  torchscript_file_ = temporary_file_;
  return torchscript_file_;
}

void ExportContext::add_file(const std::string& format, const fs::path& path) {
  std::error_code ec;
  manifest["files"].push_back({{"format", format},
                               {"path", path.string()},
                               {"bytes", static_cast<std::int64_t>(fs::file_size(path, ec))},
                               {"sha256", sha256_file_hex(path)}});
}

// ---------------------------------------------------------------------------------------------
// export_model

namespace {

std::vector<const ExportFormat*> chosen_formats(const std::vector<std::string>& names, bool& demanded) {
  auto& registry = ExportFormatRegistry::instance();
  demanded = !names.empty();
  if (names.empty()) return registry.formats();
  std::vector<std::string> wanted;
  for (const auto& n : names) {
    if (n == "all") {
      for (const auto& f : registry.names()) wanted.push_back(f);
    } else if (!registry.find(n)) {
      auto known = registry.names();
      known.push_back("all");
      throw UsageError("--format: unknown format '" + n + "'" + did_you_mean(n, known) +
                       "; known: " + join(known, ", "));
    } else {
      wanted.push_back(n);
    }
  }
  std::vector<const ExportFormat*> out;
  for (const auto* f : registry.formats())
    if (std::find(wanted.begin(), wanted.end(), f->name()) != wanted.end()) out.push_back(f);
  return out;
}

void prepare_folder(const fs::path& out) {
  std::error_code ec;
  if (fs::exists(out, ec) && !fs::is_directory(out, ec)) {
    throw ExportError(out.string() + ": --out exists and is not a folder");
  }
  fs::create_directories(out, ec);
  if (ec) throw ExportError(out.string() + ": cannot create the output folder: " + ec.message());
  if (::access(out.c_str(), W_OK) != 0) throw ExportError(out.string() + ": the output folder is not writable");
}

}  // namespace

ExportResult export_model(const TrainedModel& trained, const ExportRequest& request) {
  if (request.opset < kMinOnnxOpset || request.opset > kMaxOnnxOpset) {
    throw UsageError("--opset: must be between " + std::to_string(kMinOnnxOpset) + " and " +
                     std::to_string(kMaxOnnxOpset) + " (PyTorch 1.13's ONNX exporter); got " +
                     std::to_string(request.opset));
  }
  bool demanded = false;
  const auto formats = chosen_formats(request.formats, demanded);
  const ModuleTree tree = lower_model(trained.model);  // an unexportable model fails before any file is written
  prepare_folder(request.out_dir);

  ExportContext ctx(trained, tree, request.out_dir, !request.raw, request.opset);
  nlohmann::json& m = ctx.manifest;
  const Shape& in = trained.model.input;
  const ParamCount params = count_parameters(*trained.model.net);
  m["cnnkit_version"] = CNNKIT_VERSION;
  m["model"] = trained.config.name();
  m["source"] = {{"checkpoint", trained.checkpoint.path}, {"sha256", sha256_file_hex(trained.checkpoint.path)}};
  m["out"] = request.out_dir.string();
  m["formats"] = nlohmann::json::array();
  m["files"] = nlohmann::json::array();
  m["input"] = {{"shape", {"batch", in.channels(), in.height(), in.width()}},
                {"layout", "NCHW"},
                {"dtype", "float32"},
                {"values", request.raw ? "normalised: (x - mean) / std per channel, x in [0, 1]" : "[0, 1]"}};
  m["output"] = {{"shape", {"batch", trained.model.num_outputs()}}, {"values", "logits"}};
  m["normalization"] = {
      {"mean", trained.normalization.mean}, {"std", trained.normalization.std}, {"built_in", !request.raw}};
  m["class_names"] = trained.class_names;
  m["parameters"] = {
      {"trainable", params.trainable}, {"non_trainable", params.non_trainable}, {"total", params.total()}};

  ExportResult result;
  for (const auto* f : formats) {
    const std::string why = f->unavailable();
    if (!why.empty()) {
      if (demanded)
        result.errors.push_back(f->name() + ": " + why);
      else
        m["skipped"].push_back({{"format", f->name()}, {"reason", why}});
      continue;
    }
    try {
      f->write(ctx);
      m["formats"].push_back(f->name());
    } catch (const ExportError& e) {
      result.errors.push_back(e.what());
    } catch (const c10::Error& e) {
      result.errors.push_back(f->name() + ": " + first_line(e.what_without_backtrace()));
    }
  }
  result.manifest = m;
  return result;
}

}  // namespace cnnkit
