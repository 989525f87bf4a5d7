#include "cnnkit/eval/trained_model.h"

#include <cmath>
#include <filesystem>

#include "cnnkit/core/error.h"
#include "cnnkit/core/json_text.h"
#include "cnnkit/data/normalization.h"

namespace cnnkit {

Normalization checkpoint_normalization(const LoadedCheckpoint& ck, const Model& model) {
  const std::string where = ck.path + ": metadata 'normalization'";
  if (!ck.meta.is_object() || !ck.meta.contains("normalization")) throw CheckpointError(where + " is missing");
  const json& j = ck.meta.at("normalization");
  if (!j.is_object() || !j.contains("mean") || !j.contains("std") || !j["mean"].is_array() || !j["std"].is_array()) {
    throw CheckpointError(where + " must be {\"mean\": [...], \"std\": [...]}; got " + ConfigView::render(j));
  }
  Normalization n;
  for (const char* key : {"mean", "std"}) {
    for (const auto& v : j[key]) {
      if (!v.is_number()) throw CheckpointError(where + "/" + key + " holds " + ConfigView::render(v) + ", not a number");
      const double d = v.get<double>();
      if (!std::isfinite(d)) throw CheckpointError(where + "/" + key + " holds a non-finite value");
      (std::string(key) == "mean" ? n.mean : n.std).push_back(d);
    }
  }
  const auto channels = static_cast<std::size_t>(model.input.channels());
  if (n.mean.size() != channels || n.std.size() != channels) {
    throw CheckpointError(where + " has " + std::to_string(n.mean.size()) + " means and " +
                          std::to_string(n.std.size()) + " stds, but the model takes " + std::to_string(channels) +
                          " channel" + (channels == 1 ? "" : "s"));
  }
  for (double s : n.std)
    if (!(s > 0)) throw CheckpointError(where + "/std holds " + std::to_string(s) + "; every std must be positive");
  return n;
}

std::vector<std::string> checkpoint_class_names(const LoadedCheckpoint& ck, const Model& model) {
  const std::string where = ck.path + ": metadata 'class_names'";
  if (!ck.meta.is_object() || !ck.meta.contains("class_names")) throw CheckpointError(where + " is missing");
  const json& j = ck.meta.at("class_names");
  if (!j.is_array()) throw CheckpointError(where + " must be a list of names; got " + ConfigView::render(j));
  std::vector<std::string> names;
  for (const auto& v : j) {
    if (!v.is_string()) throw CheckpointError(where + " holds " + ConfigView::render(v) + ", not a name");
    names.push_back(v.get<std::string>());
  }
  if (static_cast<std::int64_t>(names.size()) != model.num_outputs()) {
    throw CheckpointError(where + " has " + std::to_string(names.size()) + " names but the model has " +
                          std::to_string(model.num_outputs()) + " outputs");
  }
  return names;
}

TrainedModel load_trained_model(const std::string& checkpoint_or_run_dir, const std::string& prefer,
                                const std::optional<Config>& config, const std::vector<std::string>& overrides,
                                const std::string& weights) {
  TrainedModel t;
  t.checkpoint = read_checkpoint(resolve_checkpoint_path(checkpoint_or_run_dir, prefer));
  t.config = config ? *config : with_overrides(t.checkpoint.config, overrides);
  if (config && config->resolved().at("input") != t.checkpoint.config.resolved().at("input")) {
    throw CheckpointError(t.checkpoint.path + ": checkpoint does not match the config " + config->source().file +
                          ": it takes input " + json_text(t.checkpoint.config.resolved().at("input")) +
                          ", the config " + json_text(config->resolved().at("input")));
  }
  try {
    t.model = build_model(t.config);
  } catch (const ConfigError& e) {
    if (config || !overrides.empty()) throw;  // the user's config or --set: exit 2
    // The checkpoint's own config (e.g. a model too large for this machine): data, exit 1.
    throw CheckpointError(std::string(e.what()) + " (the config stored in the checkpoint)");
  }
  t.weights = weights.empty() ? default_weight_set(t.checkpoint) : weights;
  load_weights(t.checkpoint, t.model, t.weights);
  t.weights_description = weight_set_description(t.checkpoint, t.weights);
  t.model.net->eval();
  t.normalization = checkpoint_normalization(t.checkpoint, t.model);
  t.class_names = checkpoint_class_names(t.checkpoint, t.model);
  return t;
}

std::optional<TrainedDataRoot> trained_data_root(const LoadedCheckpoint& ck) {
  const auto it = ck.meta.find("data_root");
  if (it == ck.meta.end() || !it->is_object()) return std::nullopt;
  const auto config = it->find("config"), resolved = it->find("resolved");
  if (config == it->end() || resolved == it->end() || !config->is_string() || !resolved->is_string()) return std::nullopt;
  return TrainedDataRoot{config->get<std::string>(), resolved->get<std::string>()};
}

}  // namespace cnnkit

namespace cnnkit {

CheckpointChoice choose_checkpoint_to_evaluate(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) return {resolve_checkpoint_path(path, "best.pt"), "the checkpoint given"};
  const fs::path best = fs::path(path) / "best.pt", last = fs::path(path) / "last.pt";
  const bool has_last = fs::is_regular_file(last, ec);
  if (fs::is_regular_file(best, ec)) {
    const LoadedCheckpoint ck = read_checkpoint(best.string());
    const json& data = ck.config.resolved().value("data", json::object());
    const bool validated = data.is_object() && data.value("validation_split", 0.0) > 0.0;
    if (validated) {
      std::string why = "best.pt: the epoch with the highest validation accuracy";
      if (ck.meta.is_object() && ck.meta.contains("epoch")) why += " (epoch " + ck.meta["epoch"].dump() + ")";
      return {best.string(), why + "; the final weights, which final.json reports, are in last.pt"};
    }
    if (has_last) {
      return {last.string(),
              "last.pt: the final weights (as final.json reports them); best.pt was chosen by test-split accuracy "
              "(the run had no validation split), so its test figure would be biased upwards"};
    }
    return {best.string(), "best.pt, the only checkpoint (chosen by test-split accuracy: its test figure is biased)"};
  }
  if (has_last)
    return {last.string(),
            "last.pt: the final weights, as final.json reports them (no best.pt: the run had no validation split)"};
  return {resolve_checkpoint_path(path, "last.pt"), ""};  // throws: no checkpoint in the directory
}

}  // namespace cnnkit
