#include "cnnkit/model/init_weights.h"

#include <torch/serialize.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cnnkit/core/error.h"
#include "cnnkit/core/strings.h"
#include "cnnkit/model/checkpoint.h"

namespace cnnkit {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kListed = 4;  // names shown per list in a one-line message

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string shape_str(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

// "a, b, c, d and 7 more"
std::string some(const std::vector<std::string>& v) {
  std::vector<std::string> head(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(std::min(v.size(), kListed)));
  std::string s = join(head, ", ");
  if (v.size() > kListed) s += " and " + std::to_string(v.size() - kListed) + " more";
  return s;
}

std::string read_bytes(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw CheckpointError(path + ": weights file not found");
  if (fs::is_directory(path, ec)) throw CheckpointError(path + ": is a directory, expected a weights file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError(path + ": cannot read the weights file");
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string bytes = ss.str();
  if (bytes.empty()) throw CheckpointError(path + ": empty file, not a state dict or checkpoint");
  return bytes;
}

bool is_cnnkit_checkpoint(const std::string& path) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    c10::IValue v;
    return archive.try_read("cnnkit/format", v) && v.isString();
  } catch (const c10::Error&) {
    return false;
  }
}

using Tensors = std::vector<std::pair<std::string, torch::Tensor>>;

Tensors checkpoint_tensors(const std::string& path) {
  LoadedCheckpoint ck = read_checkpoint(path);  // validates format and version
  torch::serialize::InputArchive weights;
  if (!ck.archive->try_read("model", weights)) throw CheckpointError(path + ": checkpoint holds no weights");
  Tensors out;
  for (const auto& key : weights.keys()) {
    torch::Tensor t;
    if (!weights.try_read(key, t) && !weights.try_read(key, t, /*is_buffer=*/true)) {
      throw CheckpointError(path + ": checkpoint weight '" + key + "' cannot be read");
    }
    out.emplace_back(key, t);
  }
  // The weights the run reported: a checkpoint's default weight set (e.g. its EMA) over the raw ones.
  const std::string set = default_weight_set(ck);
  if (set != kRawWeights) {
    const std::string prefix = ck.meta.at("weight_sets").at(set).value("prefix", "");
    for (auto& [key, t] : out) {
      auto it = ck.tensors.find(prefix + key);
      if (it == ck.tensors.end())
        throw CheckpointError(path + ": weight set '" + set + "' has no tensor for '" + key + "'");
      t = it->second;
    }
  }
  return out;
}

const std::string kSaveAdvice = "save a plain dict of tensors: torch.save(dict(model.state_dict()), path)";

Tensors state_dict_tensors(const std::string& path, const std::string& bytes) {
  const bool zip = bytes.size() >= 4 && bytes.compare(0, 4, "PK\x03\x04") == 0;
  if (!zip) {
    if (static_cast<unsigned char>(bytes[0]) == 0x80) {
      throw CheckpointError(path + ": a legacy (non-zip) torch.save file, which LibTorch cannot read; " + kSaveAdvice +
                            " with PyTorch >= 1.6's default format");
    }
    throw CheckpointError(path + ": neither a PyTorch state dict (torch.save) nor a cnnkit checkpoint");
  }
  c10::IValue value;
  try {
    value = torch::pickle_load(std::vector<char>(bytes.begin(), bytes.end()));
  } catch (const c10::Error& e) {
    const std::string why = first_line(e.what_without_backtrace());
    if (why.find("unknown type") != std::string::npos || bytes.find("torch.nn.modules") != std::string::npos) {
      throw CheckpointError(path + ": holds a pickled Python object, not a state dict (" + why + "); " + kSaveAdvice);
    }
    if (bytes.find("collections\nOrderedDict") != std::string::npos) {
      throw CheckpointError(path +
                            ": holds a Python OrderedDict (torch.save(model.state_dict())), which LibTorch 1.13 "
                            "cannot read; " +
                            kSaveAdvice);
    }
    throw CheckpointError(path + ": not a readable PyTorch state dict or cnnkit checkpoint: " + why);
  }
  if (!value.isGenericDict()) {
    throw CheckpointError(path + ": holds a " + std::string(value.tagKind()) + ", not a dict of tensors; " +
                          kSaveAdvice);
  }
  Tensors out;
  for (const auto& entry : value.toGenericDict()) {
    if (!entry.key().isString()) throw CheckpointError(path + ": a state-dict key is not a string; " + kSaveAdvice);
    const std::string& key = entry.key().toStringRef();
    if (!entry.value().isTensor()) {
      throw CheckpointError(path + ": state-dict entry '" + key + "' holds a " + std::string(entry.value().tagKind()) +
                            ", not a tensor; " + kSaveAdvice);
    }
    out.emplace_back(key, entry.value().toTensor());
  }
  return out;
}

}  // namespace

std::string InitWeightsReport::summary() const {
  const std::size_t total = loaded.size() + missing.size() + mismatched.size();
  std::string s = path + " (" + source + "): loaded " + std::to_string(loaded.size()) + " of " + std::to_string(total) +
                  " model tensors";
  std::vector<std::string> skipped;
  if (!missing.empty())
    skipped.push_back(std::to_string(missing.size()) + " missing from the file (" + some(missing) + ")");
  if (!mismatched.empty()) {
    skipped.push_back(std::to_string(mismatched.size()) + " with another shape (" + some(mismatched) + ")");
  }
  if (!unexpected.empty()) {
    skipped.push_back(std::to_string(unexpected.size()) + " unknown to the model (" + some(unexpected) + ")");
  }
  if (!skipped.empty()) s += "; skipped " + join(skipped, ", ");
  return s;
}

InitWeightsReport load_init_weights(Model& model, const std::string& path, const InitWeightsOptions& options) {
  const std::string bytes = read_bytes(path);
  InitWeightsReport report;
  report.path = path;
  Tensors file;
  if (is_cnnkit_checkpoint(path)) {
    report.source = "cnnkit checkpoint";
    file = checkpoint_tensors(path);
  } else {
    report.source = "PyTorch state dict";
    file = state_dict_tensors(path, bytes);
  }

  std::map<std::string, torch::Tensor> by_key(file.begin(), file.end());
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // (model tensor, file tensor)
  std::set<std::string> model_keys;
  auto match = [&](const std::string& key, const torch::Tensor& target) {
    model_keys.insert(key);
    auto it = by_key.find(key);
    if (it == by_key.end()) {
      report.missing.push_back(key);
    } else if (it->second.sizes() != target.sizes()) {
      report.mismatched.push_back(key + ": " + shape_str(it->second) + " in the file, " + shape_str(target) +
                                  " in the model");
    } else {
      report.loaded.push_back(key);
      copies.emplace_back(target, it->second);
    }
  };
  for (const auto& p : model.net->named_parameters(true)) match(p.key(), p.value());
  for (const auto& b : model.net->named_buffers(true)) match(b.key(), b.value());
  for (const auto& [key, _] : file)
    if (!model_keys.count(key)) report.unexpected.push_back(key);

  const bool complete = report.missing.empty() && report.unexpected.empty() && report.mismatched.empty();
  if (!complete && !options.partial) {
    std::vector<std::string> parts;
    if (!report.missing.empty())
      parts.push_back(std::to_string(report.missing.size()) + " missing (" + some(report.missing) + ")");
    if (!report.unexpected.empty()) {
      parts.push_back(std::to_string(report.unexpected.size()) + " unexpected (" + some(report.unexpected) + ")");
    }
    if (!report.mismatched.empty()) {
      parts.push_back(std::to_string(report.mismatched.size()) + " with another shape (" + some(report.mismatched) +
                      ")");
    }
    std::string msg = path + ": the " + report.source + " does not fit the model: " + join(parts, ", ");
    if (!report.loaded.empty()) {
      msg += "; " + std::to_string(report.loaded.size()) + " tensors fit: load only those with " + options.partial_hint;
    }
    throw CheckpointError(msg);
  }
  if (report.loaded.empty()) {
    throw CheckpointError(path + ": no tensor of the " + report.source + " fits the model (" +
                          std::to_string(report.missing.size()) + " model tensors missing, " +
                          std::to_string(report.unexpected.size()) + " unexpected, " +
                          std::to_string(report.mismatched.size()) + " with another shape)");
  }
  torch::NoGradGuard no_grad;
  for (auto& [target, source] : copies) target.copy_(source);
  return report;
}

}  // namespace cnnkit
