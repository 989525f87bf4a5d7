#include "cnnkit/eval/trained_model.h"

#include <cmath>

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
                                const std::optional<Config>& config, const std::vector<std::string>& overrides) {
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
  load_weights(t.checkpoint, t.model);
  t.model.net->eval();
  t.normalization = checkpoint_normalization(t.checkpoint, t.model);
  t.class_names = checkpoint_class_names(t.checkpoint, t.model);
  return t;
}

}  // namespace cnnkit
