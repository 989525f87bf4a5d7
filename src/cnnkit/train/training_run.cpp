#include "cnnkit/train/training_run.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <filesystem>

#include "cnnkit/core/error.h"
#include "cnnkit/core/strings.h"
#include "cnnkit/data/normalization.h"
#include "cnnkit/eval/eval_config.h"
#include "cnnkit/eval/forward.h"
#include "cnnkit/model/data_init.h"
#include "cnnkit/model/init_weights.h"
#include "cnnkit/train/optimizer.h"
#include "cnnkit/train/schedule.h"

namespace cnnkit {
namespace fs = std::filesystem;
namespace {

// Keep the uint8 images on the GPU when they are small enough (CIFAR-10: 150 MiB), so a batch
// is an on-device gather instead of a host-to-device copy.
constexpr std::int64_t kMaxResidentBytes = std::int64_t(4) << 30;
const std::string kObserverTensorPrefix = "observer/";

void make_resident(Datasets& data, c10::Device device) {
  if (!device.is_cuda()) return;
  at::globalContext().setBenchmarkCuDNN(true);
  const std::int64_t bytes = data.train.images.numel() + data.validation.images.numel() + data.test.images.numel();
  if (bytes >= kMaxResidentBytes) return;
  for (ImageSet* set : {&data.train, &data.validation, &data.test})
    if (set->images.defined()) set->images = set->images.to(device);
  spdlog::info("datasets resident on {} ({} MiB)", device.str(), bytes >> 20);
}

void check_outputs_match_classes(const TrainingRun& run) {
  const auto classes = static_cast<std::int64_t>(run.data.class_names.size());
  if (run.model.num_outputs() == classes) return;
  throw ConfigError(run.config.source().file + ":/layers/" + std::to_string(run.model.layers.size() - 1) +
                    ": the last layer has " + std::to_string(run.model.num_outputs()) + " outputs but the data has " +
                    std::to_string(classes) + " classes");
}

}  // namespace

std::string TrainingRun::last_checkpoint() const { return (fs::path(run_dir) / "last.pt").string(); }
std::string TrainingRun::best_checkpoint() const { return (fs::path(run_dir) / "best.pt").string(); }

double TrainingRun::scheduled_lr(std::int64_t step) const {
  return cnnkit::scheduled_lr(tc.schedule, tc.lr(), step, steps_per_epoch, tc.epochs) * state.lr_factor;
}

EvalOptions TrainingRun::eval_options(bool tta) const {
  EvalOptions eo;
  eo.batch_size = tc.eval_batch_size;
  eo.channels_last = tc.channels_last;
  eo.bf16 = tc.bf16(device);
  if (tta) eo.tta = tta_options_from(config);
  return distribute_eval ? distribute_eval(eo) : eo;
}

void TrainingRun::with_weights(const std::string& name, const std::function<void()>& fn) {
  if (name == kRawWeights) return fn();
  if (!weight_sets.count(name)) throw TrainingError("no weight set '" + name + "' in this run");
  torch::NoGradGuard no_grad;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> saved;  // (model tensor, its own values)
  struct Restore {  // puts the model's own weights back, also when fn throws
    std::vector<std::pair<torch::Tensor, torch::Tensor>>& saved;
    ~Restore() {
      torch::NoGradGuard no_grad;
      for (auto& [target, own] : saved) target.copy_(own);
    }
  } restore{saved};
  auto swap_in = [&](const std::string& key, torch::Tensor& target) {
    auto it = observer_tensors.find(name + "/" + key);
    if (it == observer_tensors.end()) throw TrainingError("weight set '" + name + "' has no tensor for '" + key + "'");
    saved.emplace_back(target, target.clone());
    target.copy_(it->second);
  };
  for (auto& p : model.net->named_parameters(true)) swap_in(p.key(), p.value());
  for (auto& b : model.net->named_buffers(true)) swap_in(b.key(), b.value());
  fn();
}

EvalResult TrainingRun::evaluate_weights(const std::string& name, const ImageSet& set, bool tta) {
  EvalResult r;
  with_weights(name, [&] { r = evaluate(model, set, *pipeline, device, data.class_names, eval_options(tta)); });
  return r;
}

CheckpointData TrainingRun::checkpoint_data() const {
  CheckpointData cd;
  cd.config = config.resolved();
  cd.meta = {{"class_names", data.class_names},
             {"train_size", train_size()},
             {"normalization", normalization_to_json(data.normalization)},
             {"epoch", state.epoch},
             {"train_state", state.to_json()},
             {"history", history},
             {"metrics", history.empty() ? nlohmann::json() : history.back()},
             {"distributed", distributed},
             {"cnnkit_version", CNNKIT_VERSION}};
  // The data folder as the config names it and as it was found, so that the run can be
  // evaluated from any working directory (data/dataset.h: TrainedDataRoot).
  if (config.has_section("data") && data.description.contains("root"))
    cd.meta["data_root"] = {{"config", config.resolved()["data"].value("root", "")}, {"resolved", data.description["root"]}};
  cd.tensors["generator"] = gen.get_state();
  cd.tensors["torch_cpu_rng"] = at::detail::getDefaultCPUGenerator().get_state();
  if (state.partial.batch > 0 && state.partial.perm.defined()) cd.tensors["perm"] = state.partial.perm;
  for (const auto& [name, t] : observer_tensors) cd.tensors[kObserverTensorPrefix + name] = t;
  if (!weight_sets.empty()) {
    nlohmann::json sets = nlohmann::json::object();
    for (const auto& [name, ws] : weight_sets)
      sets[name] = {{"prefix", kObserverTensorPrefix + name + "/"}, {"description", ws.description}};
    cd.meta["weight_sets"] = sets;
  }
  cd.meta["default_weights"] = default_weights;
  cd.meta["monitoring_split"] = has_validation ? "validation" : "test";
  return cd;
}

void TrainingRun::save_checkpoint(const std::string& path) const {
  cnnkit::save_checkpoint(path, model, checkpoint_data(), optimizer.get());
}

std::unique_ptr<TrainingRun> prepare_training_run(const Config& config, const DataLoadOptions& load, c10::Device device,
                                                  bool fresh) {
  auto run = std::make_unique<TrainingRun>();
  run->config = config;
  run->tc = TrainingConfig::from(config);
  run->device = device;
  // Data first: a bad dataset should fail before anything is written.
  run->data = load_datasets(config, load);
  if (run->data.train.size() == 0) throw DataError(config.source().file + ": the training split is empty");
  run->has_validation = run->data.validation.size() > 0;
  make_resident(run->data, device);
  torch::manual_seed(run->tc.seed);  // weight initialisation, dropout
  run->model = build_model(config);
  check_outputs_match_classes(*run);
  if (fresh && !run->tc.init_weights.path.empty()) {
    InitWeightsOptions o;
    o.partial = run->tc.init_weights.partial;
    o.partial_hint = "--init-weights-partial";
    spdlog::info("initial weights: {}", load_init_weights(run->model, run->tc.init_weights.path, o).summary());
  }
  run->model.net->to(device);
  if (run->tc.channels_last) to_channels_last(run->model);
  run->optimizer = make_optimizer(*run->model.net, run->tc.optimizer, &run->lr_scales);
  run->pipeline = std::make_unique<BatchPipeline>(config, run->data.normalization, device);
  run->gen = at::detail::createCPUGenerator(run->tc.seed);  // shuffling, augmentation
  const std::int64_t batch = run->tc.batch_size;
  run->steps_per_epoch = (run->train_size() + batch - 1) / batch;
  return run;
}

void initialise_weights_from_data(TrainingRun& run) {
  if (!needs_data_init(run.model)) return;
  at::Generator gen = at::detail::createCPUGenerator(run.tc.seed);  // not the run's: shuffling stays the same
  const std::int64_t n = std::min(run.train_size(), kDataInitImages);
  const auto idx = torch::randperm(run.train_size(), gen, torch::kInt64).slice(0, 0, n);
  const torch::Tensor images = run.pipeline->batch(run.data.train, idx, /*train=*/false, gen);
  for (const auto& line : initialise_from_data(run.model, images)) spdlog::info("{}", line);
}


namespace {

// Resuming must continue what config.json shows: settings changed with --set are applied and
// said; what cannot be carried over is refused.
void check_resumable(const TrainingRun& run, const LoadedCheckpoint& ck) {
  const json& before = ck.config.resolved();
  const json& now = run.config.resolved();
  const std::string old_type = before["training"]["optimizer"].value("type", "");
  const std::string new_type = now["training"]["optimizer"].value("type", "");
  if (old_type != new_type) {
    throw UsageError("--resume " + ck.path + ": the run was trained with optimizer " + old_type +
                     " and the config now says " + new_type +
                     "; its state cannot carry over (start a new run to change optimizers)");
  }
  std::vector<std::string> changes;
  for (const auto& op : json::diff(before, now)) {
    const std::string path = op.at("path").get<std::string>();
    const json old_value = before.contains(json::json_pointer(path)) ? before.at(json::json_pointer(path)) : json();
    changes.push_back(path + " " + (old_value.is_null() ? "(unset)" : old_value.dump()) + " -> " +
                      (op.contains("value") ? op.at("value").dump() : "(removed)"));
  }
  if (!changes.empty()) spdlog::info("resuming with settings changed since the checkpoint: {}", join(changes, ", "));
}

// The training split must be the one the checkpoint's position refers to.
void check_same_data(const TrainingRun& run, const LoadedCheckpoint& ck) {
  const std::int64_t saved = ck.meta.value("train_size", std::int64_t{-1});
  if (run.state.partial.batch > 0) {
    const std::int64_t perm = run.state.partial.perm.numel();
    if (perm != run.train_size()) {
      throw CheckpointError(ck.path + ": interrupted mid-epoch with an epoch order of " + std::to_string(perm) +
                            " training images, but the training split now has " + std::to_string(run.train_size()) +
                            " (the data or data.limit_train changed); restore the data, or resume from a checkpoint "
                            "written at the end of an epoch");
    }
  } else if (saved >= 0 && saved != run.train_size()) {
    spdlog::warn("the training split has {} images now and had {} when {} was written (the data changed)",
                 run.train_size(), saved, ck.path);
  }
}

}  // namespace

void restore_training_run(TrainingRun& run, const LoadedCheckpoint& ck) {
  check_resumable(run, ck);
  load_weights(ck, run.model);
  if (run.tc.channels_last) to_channels_last(run.model);
  ck.load_optimizer(*run.optimizer);
  try {
    run.state.from_json(ck.meta.at("train_state"));
    run.history = ck.meta.value("history", nlohmann::json::array());
  } catch (const nlohmann::json::exception& e) {
    throw CheckpointError(ck.path + ": damaged training state: " + e.what());
  }
  if (ck.tensors.count("generator")) run.gen.set_state(ck.tensors.at("generator"));
  if (ck.tensors.count("torch_cpu_rng")) {
    at::Generator global = at::detail::getDefaultCPUGenerator();
    global.set_state(ck.tensors.at("torch_cpu_rng"));
  }
  for (const auto& [name, t] : ck.tensors)
    if (name.rfind(kObserverTensorPrefix, 0) == 0) run.observer_tensors[name.substr(kObserverTensorPrefix.size())] = t;
  if (run.state.partial.batch > 0) {
    if (!ck.tensors.count("perm"))
      throw CheckpointError(ck.path + ": interrupted mid-epoch but holds no epoch permutation");
    run.state.partial.perm = ck.tensors.at("perm");
  }
  check_same_data(run, ck);
  spdlog::info(
      "resuming from {} after epoch {}{}", ck.path, run.state.epoch,
      run.state.partial.batch ? " (and " + std::to_string(run.state.partial.batch) + " batches of the next)" : "");
}

}  // namespace cnnkit
