#include "cnnkit/model/checkpoint.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "cnnkit/core/atomic_file.h"
#include "cnnkit/core/error.h"
#include "cnnkit/core/input_file.h"
#include "cnnkit/core/json_text.h"
#include "cnnkit/core/strings.h"

namespace cnnkit {
namespace fs = std::filesystem;

namespace {

const char* kMagic = "cnnkit-checkpoint";

std::string shape_str(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

void save_checkpoint(const std::string& path, const Model& model, const CheckpointData& data,
                     const torch::optim::Optimizer* optimizer) {
  torch::serialize::OutputArchive archive;
  archive.write("cnnkit/format", c10::IValue(std::string(kMagic)));
  archive.write("cnnkit/version", c10::IValue(static_cast<int64_t>(kCheckpointFormatVersion)));
  archive.write("cnnkit/config", c10::IValue(json_text(data.config)));
  archive.write("cnnkit/meta", c10::IValue(json_text(data.meta)));
  torch::serialize::OutputArchive weights;
  for (const auto& p : model.net->named_parameters(true)) weights.write(p.key(), p.value().detach().cpu());
  for (const auto& b : model.net->named_buffers(true)) weights.write(b.key(), b.value().detach().cpu(), true);
  archive.write("model", weights);
  torch::serialize::OutputArchive tensors;
  for (const auto& [k, t] : data.tensors) tensors.write(k, t.detach().cpu());
  archive.write("tensors", tensors);
  if (optimizer) {
    torch::serialize::OutputArchive opt;
    optimizer->save(opt);
    archive.write("optimizer", opt);
  }
  std::string bytes;
  try {
    archive.save_to([&](const void* data, size_t n) {
      bytes.append(static_cast<const char*>(data), n);
      return n;
    });
  } catch (const c10::Error& e) {
    throw CheckpointError(path + ": cannot write checkpoint: " + first_line(e.what_without_backtrace()));
  }
  try {
    write_file_atomically(path, bytes);
  } catch (const Error& e) {
    throw CheckpointError(e.what());
  }
}

std::string resolve_checkpoint_path(const std::string& path_or_dir, const std::string& prefer) {
  std::error_code ec;
  if (fs::is_directory(path_or_dir, ec)) {
    for (const std::string& name : {prefer, std::string(prefer == "best.pt" ? "last.pt" : "best.pt")}) {
      fs::path p = fs::path(path_or_dir) / name;
      if (fs::is_regular_file(p, ec)) return p.string();
    }
    throw CheckpointError(path_or_dir + ": is a directory without best.pt or last.pt; give a checkpoint file or a run directory");
  }
  return path_or_dir;  // read_checkpoint says what is wrong with anything that is not a file
}

namespace {

// A string record of the archive, or a CheckpointError naming it.
std::string string_record(const LoadedCheckpoint& ck, const std::string& key) {
  c10::IValue v;
  if (!ck.archive->try_read(key, v)) throw CheckpointError(ck.path + ": damaged checkpoint: no '" + key + "' record");
  if (!v.isString()) {
    throw CheckpointError(ck.path + ": damaged checkpoint: record '" + key + "' is a " + v.tagKind() +
                          ", expected a string");
  }
  return v.toStringRef();
}

// Metadata JSON with the config parser's limits (depth, numbers); its errors exit 1: the file
// is data, not the user's config.
json parse_record(const LoadedCheckpoint& ck, const std::string& key, const std::string& text) {
  try {
    return parse_json_text(text, ck.path + "#" + key.substr(key.find('/') + 1));
  } catch (const ConfigError& e) {
    throw CheckpointError(std::string(e.what()) + " (damaged checkpoint)");
  }
}

void read_records(LoadedCheckpoint& ck) {
  const std::string& path = ck.path;
  c10::IValue v;
  if (!ck.archive->try_read("cnnkit/format", v) || !v.isString() || v.toStringRef() != kMagic) {
    throw CheckpointError(path + ": not a cnnkit checkpoint (no cnnkit/format record)");
  }
  if (!ck.archive->try_read("cnnkit/version", v) || !v.isInt()) {
    throw CheckpointError(path + ": damaged checkpoint: record 'cnnkit/version' is missing or not an integer");
  }
  const int64_t version = v.toInt();
  if (version > kCheckpointFormatVersion) {
    throw CheckpointError(path + ": checkpoint format version " + std::to_string(version) +
                          " is newer than this cnnkit supports (" + std::to_string(kCheckpointFormatVersion) + ")");
  }
  if (version < 1) throw CheckpointError(path + ": damaged checkpoint: format version " + std::to_string(version));
  json config = parse_record(ck, "cnnkit/config", string_record(ck, "cnnkit/config"));
  ck.meta = parse_record(ck, "cnnkit/meta", string_record(ck, "cnnkit/meta"));
  if (ck.meta.is_null()) ck.meta = json::object();  // saved without metadata (a bare model)
  if (!ck.meta.is_object()) {
    throw CheckpointError(path + ": damaged checkpoint: metadata is " + ConfigView::render(ck.meta) + ", not an object");
  }
  auto source = std::make_shared<ConfigSource>();
  source->file = path + "#config";
  source->stored = true;  // its errors are CheckpointErrors (exit 1), see config_view.h
  try {
    ck.config = resolve_config(config, source);
  } catch (const ConfigError& e) {
    throw CheckpointError(std::string(e.what()) + " (the config stored in the checkpoint)");
  }
  torch::serialize::InputArchive tensors;
  if (ck.archive->try_read("tensors", tensors)) {
    for (const auto& key : tensors.keys()) {
      c10::IValue t;
      if (!tensors.try_read(key, t) || !t.isTensor()) {
        throw CheckpointError(path + ": damaged checkpoint: record 'tensors/" + key + "' is not a tensor");
      }
      ck.tensors[key] = t.toTensor();
    }
  }
}

}  // namespace

LoadedCheckpoint read_checkpoint(const std::string& path) {
  LoadedCheckpoint ck;
  ck.path = path;
  {
    InputFile in(path);  // regular files only: a FIFO or /dev/zero would hang the archive reader
    if (!in.ok()) throw CheckpointError(in.message("checkpoint"));
    if (in.size() == 0) throw CheckpointError(path + ": empty file, not a checkpoint");
  }
  ck.archive = std::make_shared<torch::serialize::InputArchive>();
  try {
    ck.archive->load_from(path);
  } catch (const c10::Error& e) {
    throw CheckpointError(path + ": not a readable checkpoint (corrupt or truncated?): " +
                          first_line(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw CheckpointError(path + ": not a readable checkpoint (corrupt or truncated?): " + first_line(e.what()));
  }
  try {
    read_records(ck);
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw CheckpointError(path + ": damaged checkpoint: " + first_line(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw CheckpointError(path + ": damaged checkpoint: " + first_line(e.what()));
  }
  return ck;
}

namespace {

// Copies one saved tensor into the model's, refusing what would be silently converted or
// would poison every prediction: another dtype, layout or shape, and non-finite values.
// Copies one saved tensor into the model's, refusing what would be silently converted or
// would poison every prediction: another dtype, layout or shape, and non-finite values.
// `what` names the tensor in messages ("'conv.weight'", "weight set 'ema': 'conv.weight'").
void copy_checked(const LoadedCheckpoint& ck, const torch::Tensor& t, const std::string& what, torch::Tensor& target) {
  if (t.layout() != torch::kStrided || t.is_quantized() || !t.device().is_cpu()) {
    throw CheckpointError(ck.path + ": damaged checkpoint: " + what + " is not a dense CPU tensor");
  }
  if (t.scalar_type() != target.scalar_type()) {
    throw CheckpointError(ck.path + ": damaged checkpoint: " + what + " holds " +
                          std::string(c10::toString(t.scalar_type())) + " values, the model expects " +
                          c10::toString(target.scalar_type()));
  }
  if (t.sizes() != target.sizes()) {
    throw CheckpointError(ck.path + ": checkpoint does not match the model: " + what + " has shape " + shape_str(t) +
                          " in the checkpoint, " + shape_str(target) + " in the model");
  }
  if (t.is_floating_point() && !torch::isfinite(t).all().item<bool>()) {
    throw CheckpointError(ck.path + ": damaged checkpoint: " + what + " holds NaN or infinite values");
  }
  target.copy_(t);
}

void copy_weight(const LoadedCheckpoint& ck, torch::serialize::InputArchive& weights, const std::string& name,
                 torch::Tensor& target, bool is_buffer) {
  torch::Tensor t;
  if (!weights.try_read(name, t, is_buffer) || !t.defined()) {
    throw CheckpointError(ck.path + ": checkpoint does not match the model: no weights for '" + name +
                          "' (the config differs from the one it was trained with)");
  }
  copy_checked(ck, t, "'" + name + "'", target);
}

}  // namespace

void load_weights(const LoadedCheckpoint& ck, Model& model) {
  try {
    torch::serialize::InputArchive weights;
    if (!ck.archive->try_read("model", weights)) throw CheckpointError(ck.path + ": checkpoint holds no weights");
    torch::NoGradGuard no_grad;
    for (auto& p : model.net->named_parameters(true)) copy_weight(ck, weights, p.key(), p.value(), false);
    for (auto& b : model.net->named_buffers(true)) copy_weight(ck, weights, b.key(), b.value(), true);
    std::size_t expected = model.net->named_parameters(true).size() + model.net->named_buffers(true).size();
    if (weights.keys().size() != expected) {
      throw CheckpointError(ck.path + ": checkpoint does not match the model: it holds " +
                            std::to_string(weights.keys().size()) + " weight tensors, the model has " +
                            std::to_string(expected));
    }
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw CheckpointError(ck.path + ": damaged checkpoint: " + first_line(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw CheckpointError(ck.path + ": damaged checkpoint: " + first_line(e.what()));
  }
}

std::vector<std::string> weight_set_names(const LoadedCheckpoint& ck) {
  std::vector<std::string> names = {kRawWeights};
  if (ck.meta.is_object() && ck.meta.contains("weight_sets") && ck.meta["weight_sets"].is_object())
    for (auto it = ck.meta["weight_sets"].begin(); it != ck.meta["weight_sets"].end(); ++it) names.push_back(it.key());
  return names;
}

std::string default_weight_set(const LoadedCheckpoint& ck) {
  if (!ck.meta.is_object() || !ck.meta.contains("default_weights") || !ck.meta["default_weights"].is_string())
    return kRawWeights;
  const std::string name = ck.meta["default_weights"].get<std::string>();
  const auto names = weight_set_names(ck);
  if (std::find(names.begin(), names.end(), name) == names.end())
    throw CheckpointError(ck.path + ": metadata 'default_weights' names '" + name + "', which it does not hold");
  return name;
}

std::string weight_set_description(const LoadedCheckpoint& ck, const std::string& set) {
  if (set == kRawWeights) return "the model's own weights";
  try {
    return ck.meta.at("weight_sets").at(set).value("description", set);
  } catch (const json::exception&) {
    return set;
  }
}

void load_weights(const LoadedCheckpoint& ck, Model& model, const std::string& set) {
  load_weights(ck, model);
  if (set == kRawWeights) return;
  const auto names = weight_set_names(ck);
  if (std::find(names.begin(), names.end(), set) == names.end())
    throw UsageError("--weights " + set + ": " + ck.path + " holds no weight set '" + set + "'; it holds " +
                     join(names, ", "));
  const json& entry = ck.meta["weight_sets"][set];
  const auto prefix_it = entry.is_object() ? entry.find("prefix") : entry.end();
  if (!entry.is_object() || prefix_it == entry.end() || !prefix_it->is_string())
    throw CheckpointError(ck.path + ": damaged checkpoint: metadata of weight set '" + set + "' has no prefix string");
  const std::string prefix = prefix_it->get<std::string>();
  torch::NoGradGuard no_grad;
  auto copy = [&](const std::string& name, torch::Tensor& target) {
    auto it = ck.tensors.find(prefix + name);
    if (it == ck.tensors.end())
      throw CheckpointError(ck.path + ": weight set '" + set + "' has no tensor for '" + name + "'");
    copy_checked(ck, it->second, "weight set '" + set + "': '" + name + "'", target);
  };
  for (auto& p : model.net->named_parameters(true)) copy(p.key(), p.value());
  for (auto& b : model.net->named_buffers(true)) copy(b.key(), b.value());
}

void LoadedCheckpoint::load_optimizer(torch::optim::Optimizer& optimizer) const {
  torch::serialize::InputArchive opt;
  if (!archive->try_read("optimizer", opt)) throw CheckpointError(path + ": checkpoint holds no optimizer state to resume from");
  try {
    optimizer.load(opt);
  } catch (const c10::Error& e) {
    throw CheckpointError(path + ": optimizer state does not match: " + first_line(e.what_without_backtrace()));
  }
}

}  // namespace cnnkit
