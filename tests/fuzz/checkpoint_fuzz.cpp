// The checkpoint loader: read_checkpoint + build_model + load_weights + the metadata checks of
// eval/trained_model.h (load_trained_model). Input: one mode byte, then
//   mode even: the checkpoint file itself (a torch archive: a zip of pickles and TorchScript);
//   mode odd:  a recipe "CONFIG \0 META \0 OPS": this harness writes a well-formed archive with
//              CONFIG and META as the stored config and metadata, the weights of CONFIG's model,
//              and the damage OPS asks for (records missing or of the wrong type, weights of
//              another dtype or shape, NaN, extra tensors, ...), so the fuzzer reaches the
//              validation behind the archive format instead of only its CRCs and pickles.
// With $CNNKIT_FUZZ_MAKE_SEEDS set, writes seeds (recipes and one real checkpoint) and exits.
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cnnkit/config/config.h"
#include "cnnkit/core/error.h"
#include "cnnkit/eval/trained_model.h"
#include "cnnkit/model/checkpoint.h"
#include "cnnkit/model/model.h"
#include "fuzz_support.h"

namespace {
using cnnkit::json;

// Applies one damage op to the weights about to be written.
struct Weights {
  std::vector<std::pair<std::string, torch::Tensor>> params, buffers;
  torch::Tensor* pick(std::uint8_t arg) {
    const std::size_t n = params.size() + buffers.size();
    if (n == 0) return nullptr;
    const std::size_t i = arg % n;
    return i < params.size() ? &params[i].second : &buffers[i - params.size()].second;
  }
};

std::string build_archive(const std::string& config_text, const std::string& meta_text, const std::string& ops) {
  bool format = true, format_int = false, version = true, version_text = false, config_int = false, meta = true;
  std::int64_t version_value = cnnkit::kCheckpointFormatVersion;
  Weights w;
  try {
    auto source = std::make_shared<cnnkit::ConfigSource>();
    source->file = "recipe.json";
    cnnkit::Config config = cnnkit::resolve_config(cnnkit::parse_json_text(config_text, "recipe.json"), source);
    cnnkit::Model model = cnnkit::build_model(config);
    for (const auto& p : model.net->named_parameters(true)) w.params.emplace_back(p.key(), p.value().detach().clone());
    for (const auto& b : model.net->named_buffers(true)) w.buffers.emplace_back(b.key(), b.value().detach().clone());
  } catch (const cnnkit::Error&) {
    // No model: the archive holds no weights.
  }
  torch::serialize::OutputArchive extra_tensors;
  for (std::size_t i = 0; i + 1 < ops.size(); i += 2) {
    const std::uint8_t op = static_cast<std::uint8_t>(ops[i]) % 20, arg = static_cast<std::uint8_t>(ops[i + 1]);
    torch::Tensor* t = w.pick(arg);
    switch (op) {
      case 0: format = false; break;
      case 1: format_int = true; break;
      case 2: version = false; break;
      case 3: version_text = true; break;
      case 4: version_value = static_cast<std::int64_t>(arg) - 128; break;
      case 5: config_int = true; break;
      case 6: meta = false; break;
      case 7:
        if (!w.params.empty()) w.params.erase(w.params.begin() + arg % w.params.size());
        break;
      case 8: if (t) *t = t->to(torch::kFloat64); break;
      case 9: if (t) *t = t->to(torch::kInt64); break;
      case 10: if (t && t->numel() && t->is_floating_point()) t->view(-1)[arg % t->numel()] = NAN; break;
      case 11: if (t) *t = t->reshape({-1}).unsqueeze(0); break;
      case 12: w.params.emplace_back("extra" + std::to_string(arg), torch::zeros({arg % 5})); break;
      case 13: if (t) *t = t->to(torch::kFloat16); break;
      case 14: if (t && t->numel() && t->is_floating_point()) t->view(-1)[arg % t->numel()] = INFINITY; break;
      case 15: extra_tensors.write("rng" + std::to_string(arg), torch::zeros({arg % 7})); break;
      case 16: extra_tensors.write("text" + std::to_string(arg), c10::IValue(std::string("x"))); break;
      case 17: if (t) *t = t->to(torch::kUInt8); break;
      case 18: if (t && t->dim() > 0) *t = t->narrow(0, 0, t->size(0) / 2); break;
      case 19: if (!w.buffers.empty()) w.buffers.erase(w.buffers.begin() + arg % w.buffers.size()); break;
    }
  }
  torch::serialize::OutputArchive archive;
  if (format) {
    archive.write("cnnkit/format", format_int ? c10::IValue(std::int64_t(1)) : c10::IValue(std::string("cnnkit-checkpoint")));
  }
  if (version) archive.write("cnnkit/version", version_text ? c10::IValue(std::string("1")) : c10::IValue(version_value));
  archive.write("cnnkit/config", config_int ? c10::IValue(std::int64_t(7)) : c10::IValue(config_text));
  if (meta) archive.write("cnnkit/meta", c10::IValue(meta_text));
  torch::serialize::OutputArchive weights;
  for (const auto& [k, t] : w.params) weights.write(k, t);
  for (const auto& [k, t] : w.buffers) weights.write(k, t, true);
  archive.write("model", weights);
  archive.write("tensors", extra_tensors);
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

void check(const std::string& path) {
  cnnkit::fuzz::expect_clean([&] {
    cnnkit::TrainedModel t = cnnkit::load_trained_model(path);
    // What the loader promises (eval/trained_model.h).
    if (t.normalization.mean.size() != static_cast<std::size_t>(t.model.input.channels())) std::abort();
    if (static_cast<std::int64_t>(t.class_names.size()) != t.model.num_outputs()) std::abort();
    for (double s : t.normalization.std)
      if (!(s > 0) || !std::isfinite(s)) std::abort();
    for (const auto& p : t.model.net->parameters())
      if (!torch::isfinite(p).all().item<bool>()) std::abort();
  });
}

const char* kTinyConfig = R"({"name": "tiny", "input": {"channels": 1, "height": 6, "width": 6},
 "layers": [{"type": "conv2d", "filters": 2, "kernel_size": 3, "batch_norm": true, "activation": "relu"},
            {"type": "global_avgpool2d"}, {"type": "dense", "units": 3}]})";
const char* kTinyMeta = R"({"class_names": ["a", "b", "c"], "normalization": {"mean": [0.5], "std": [0.25]}, "epoch": 1})";

void make_seeds() {
  using cnnkit::fuzz::write_seed;
  const std::string config = kTinyConfig, meta = kTinyMeta;
  auto recipe = [&](const std::string& c, const std::string& m, const std::string& ops) {
    return std::string("\x01") + c + std::string(1, '\0') + m + std::string(1, '\0') + ops;
  };
  write_seed("raw-tiny.pt", std::string(1, '\0') + build_archive(config, meta, ""));
  write_seed("recipe-tiny", recipe(config, meta, ""));
  write_seed("recipe-dtype", recipe(config, meta, std::string("\x08\x01\x0a\x02", 4)));
  write_seed("recipe-records", recipe(config, meta, std::string("\x03\x00\x06\x00\x10\x01", 6)));
  write_seed("recipe-meta", recipe(config, R"({"class_names": ["a"], "normalization": {"mean": [], "std": [0]}})", ""));
  std::exit(0);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  cnnkit::fuzz::init();
  if (!cnnkit::fuzz::seed_dir().empty()) make_seeds();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string file;
  if (data[0] % 2 == 0) {
    file.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  } else {
    auto parts = cnnkit::fuzz::split_input(data + 1, size - 1, 3);
    parts.resize(3);
    try {
      file = build_archive(parts[0], parts[1], parts[2]);
    } catch (const std::exception&) {
      return 0;  // LibTorch refused to write this archive (c10::Error): nothing for the loader to read
    }
  }
  check(cnnkit::fuzz::write_temp("checkpoint.pt", file));
  return 0;
}
