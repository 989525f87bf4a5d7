#include "cnnkit/model/checkpoint.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "cnnkit/core/atomic_file.h"
#include "cnnkit/core/error.h"
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
  archive.write("cnnkit/config", c10::IValue(data.config.dump()));
  archive.write("cnnkit/meta", c10::IValue(data.meta.dump()));
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
  if (!fs::exists(path_or_dir, ec)) throw CheckpointError(path_or_dir + ": checkpoint not found");
  if (fs::is_directory(path_or_dir, ec)) {
    for (const std::string& name : {prefer, std::string(prefer == "best.pt" ? "last.pt" : "best.pt")}) {
      fs::path p = fs::path(path_or_dir) / name;
      if (fs::is_regular_file(p, ec)) return p.string();
    }
    throw CheckpointError(path_or_dir + ": is a directory without best.pt or last.pt; give a checkpoint file or a run directory");
  }
  return path_or_dir;
}

LoadedCheckpoint read_checkpoint(const std::string& path) {
  LoadedCheckpoint ck;
  ck.path = path;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw CheckpointError(path + ": checkpoint not found");
  if (fs::is_directory(path, ec)) throw CheckpointError(path + ": is a directory, expected a checkpoint file");
  if (fs::file_size(path, ec) == 0) throw CheckpointError(path + ": empty file, not a checkpoint");
  ck.archive = std::make_shared<torch::serialize::InputArchive>();
  try {
    ck.archive->load_from(path);
  } catch (const c10::Error& e) {
    throw CheckpointError(path + ": not a readable checkpoint (corrupt or truncated?): " +
                          first_line(e.what_without_backtrace()));
  }
  c10::IValue v;
  if (!ck.archive->try_read("cnnkit/format", v) || !v.isString() || v.toStringRef() != kMagic) {
    throw CheckpointError(path + ": not a cnnkit checkpoint (no cnnkit/format record)");
  }
  ck.archive->read("cnnkit/version", v);
  int64_t version = v.toInt();
  if (version > kCheckpointFormatVersion) {
    throw CheckpointError(path + ": checkpoint format version " + std::to_string(version) +
                          " is newer than this cnnkit supports (" + std::to_string(kCheckpointFormatVersion) + ")");
  }
  try {
    ck.archive->read("cnnkit/config", v);
    json config = json::parse(v.toStringRef());
    ck.archive->read("cnnkit/meta", v);
    ck.meta = json::parse(v.toStringRef());
    auto source = std::make_shared<ConfigSource>();
    source->file = path + "#config";
    source->stored = true;
    ck.config = resolve_config(config, source);
  } catch (const json::exception& e) {
    throw CheckpointError(path + ": damaged metadata: " + std::string(e.what()));
  } catch (const c10::Error& e) {
    throw CheckpointError(path + ": damaged checkpoint: " + first_line(e.what_without_backtrace()));
  }
  torch::serialize::InputArchive tensors;
  if (ck.archive->try_read("tensors", tensors)) {
    for (const auto& key : tensors.keys()) {
      torch::Tensor t;
      tensors.read(key, t);
      ck.tensors[key] = t;
    }
  }
  return ck;
}

void load_weights(const LoadedCheckpoint& ck, Model& model) {
  torch::serialize::InputArchive weights;
  if (!ck.archive->try_read("model", weights)) throw CheckpointError(ck.path + ": checkpoint holds no weights");
  torch::NoGradGuard no_grad;
  auto copy = [&](const std::string& name, torch::Tensor& target, bool is_buffer) {
    torch::Tensor t;
    if (!weights.try_read(name, t, is_buffer)) {
      throw CheckpointError(ck.path + ": checkpoint does not match the model: no weights for '" + name +
                            "' (the config differs from the one it was trained with)");
    }
    if (t.sizes() != target.sizes()) {
      throw CheckpointError(ck.path + ": checkpoint does not match the model: '" + name + "' has shape " + shape_str(t) +
                            " in the checkpoint, " + shape_str(target) + " in the model");
    }
    target.copy_(t);
  };
  for (auto& p : model.net->named_parameters(true)) copy(p.key(), p.value(), false);
  for (auto& b : model.net->named_buffers(true)) copy(b.key(), b.value(), true);
  std::size_t expected = model.net->named_parameters(true).size() + model.net->named_buffers(true).size();
  if (weights.keys().size() != expected) {
    throw CheckpointError(ck.path + ": checkpoint does not match the model: it holds " +
                          std::to_string(weights.keys().size()) + " weight tensors, the model has " +
                          std::to_string(expected));
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
  std::string prefix;
  try {
    prefix = ck.meta.at("weight_sets").at(set).at("prefix").get<std::string>();
  } catch (const json::exception& e) {
    throw CheckpointError(ck.path + ": damaged metadata of weight set '" + set + "': " + e.what());
  }
  torch::NoGradGuard no_grad;
  auto copy = [&](const std::string& name, torch::Tensor& target) {
    auto it = ck.tensors.find(prefix + name);
    if (it == ck.tensors.end())
      throw CheckpointError(ck.path + ": weight set '" + set + "' has no tensor for '" + name + "'");
    if (it->second.sizes() != target.sizes())
      throw CheckpointError(ck.path + ": weight set '" + set + "': '" + name + "' has shape " +
                            shape_str(it->second) + ", the model " + shape_str(target));
    target.copy_(it->second);
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
