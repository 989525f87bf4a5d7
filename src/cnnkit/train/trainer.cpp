#include "cnnkit/train/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>
#include <csignal>
#include <cmath>
#include <filesystem>

#include "cnnkit/core/atomic_file.h"
#include "cnnkit/core/error.h"
#include "cnnkit/core/interrupt.h"
#include "cnnkit/core/logging.h"
#include "cnnkit/data/pipeline.h"
#include "cnnkit/eval/evaluator.h"
#include "cnnkit/eval/forward.h"
#include "cnnkit/model/summary.h"
#include "cnnkit/train/lr_schedule.h"
#include "cnnkit/train/optimizer.h"
#include "cnnkit/train/progress.h"
#include "cnnkit/train/run_dir.h"
#include "cnnkit/train/training_config.h"
#include "cnnkit/viz/training_curves.h"

namespace cnnkit {
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

bool lower_is_better(const std::string& metric) { return metric.find("loss") != std::string::npos; }

// Patience tracking shared by early stopping and reduce-on-plateau.
struct Patience {
  double best = NAN;
  int bad_epochs = 0;
  // Returns true when the metric improved.
  bool observe(double value, const PlateauConfig& c) {
    bool better = std::isnan(best) ||
                  (lower_is_better(c.metric) ? value < best - c.min_delta : value > best + c.min_delta);
    if (better) {
      best = value;
      bad_epochs = 0;
    } else {
      ++bad_epochs;
    }
    return better;
  }
  nlohmann::json to_json() const { return {{"best", std::isnan(best) ? nlohmann::json() : nlohmann::json(best)}, {"bad_epochs", bad_epochs}}; }
  void from_json(const nlohmann::json& j) {
    best = j.at("best").is_null() ? NAN : j.at("best").get<double>();
    bad_epochs = j.at("bad_epochs").get<int>();
  }
};

struct LoopState {
  int epoch = 0;          // completed epochs
  std::int64_t step = 0;  // optimizer steps taken
  double lr_factor = 1.0;
  Patience plateau, early;
  double best_val_accuracy = -1.0;
  int best_epoch = 0;
  double elapsed = 0.0;  // training seconds so far, across resumes
  // Mid-epoch position after an interrupt.
  std::int64_t partial_batch = 0;
  double partial_loss_sum = 0.0;
  std::int64_t partial_correct = 0, partial_seen = 0;
  double partial_seconds = 0.0;
  torch::Tensor perm;

  nlohmann::json to_json() const {
    nlohmann::json j = {{"epoch", epoch},
                        {"step", step},
                        {"lr_factor", lr_factor},
                        {"plateau", plateau.to_json()},
                        {"early_stopping", early.to_json()},
                        {"best_val_accuracy", best_val_accuracy},
                        {"best_epoch", best_epoch},
                        {"elapsed_seconds", elapsed}};
    if (partial_batch > 0) {
      j["partial"] = {{"batch", partial_batch},
                      {"loss_sum", partial_loss_sum},
                      {"correct", partial_correct},
                      {"seen", partial_seen},
                      {"seconds", partial_seconds}};
    }
    return j;
  }
  void from_json(const nlohmann::json& j) {
    epoch = j.at("epoch").get<int>();
    step = j.at("step").get<std::int64_t>();
    lr_factor = j.at("lr_factor").get<double>();
    plateau.from_json(j.at("plateau"));
    early.from_json(j.at("early_stopping"));
    best_val_accuracy = j.at("best_val_accuracy").get<double>();
    best_epoch = j.at("best_epoch").get<int>();
    elapsed = j.value("elapsed_seconds", 0.0);
    if (j.contains("partial")) {
      const auto& p = j["partial"];
      partial_batch = p.at("batch").get<std::int64_t>();
      partial_loss_sum = p.at("loss_sum").get<double>();
      partial_correct = p.at("correct").get<std::int64_t>();
      partial_seen = p.at("seen").get<std::int64_t>();
      partial_seconds = p.value("seconds", 0.0);
    }
  }
};

nlohmann::json normalization_json(const Normalization& n) { return {{"mean", n.mean}, {"std", n.std}}; }

std::string fmt_metrics(const nlohmann::json& r) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "loss %.4f  acc %.2f%%  val_loss %.4f  val_acc %.2f%%  lr %.2e  %.1f s  %.0f img/s",
                r["train_loss"].get<double>(), 100 * r["train_accuracy"].get<double>(), r["val_loss"].get<double>(),
                100 * r["val_accuracy"].get<double>(), r["lr"].get<double>(), r["seconds"].get<double>(),
                r["images_per_second"].get<double>());
  return buf;
}

}  // namespace

TrainResult train_model(const Config& config, const TrainOptions& options, c10::Device device) {
  TrainingConfig tc = TrainingConfig::from(config.section("training"));
  const bool bf16 = tc.precision == "bf16";
  const bool channels_last = tc.channels_last;

  // Data first: a bad dataset should fail before anything is written.
  Datasets data = load_datasets(config, options.data);
  if (data.train.size() == 0) throw DataError(config.source().file + ": the training split is empty");
  const bool use_validation = data.validation.size() > 0;
  const ImageSet& val_set = use_validation ? data.validation : data.test;
  const std::string val_name = use_validation ? "validation split" : "test split";

  if (device.is_cuda()) {
    at::globalContext().setBenchmarkCuDNN(true);
    // Keep the uint8 images on the GPU when they are small enough (CIFAR-10: 150 MiB), so a
    // batch is an on-device gather instead of a host-to-device copy.
    std::int64_t bytes = data.train.images.numel() + data.validation.images.numel() + data.test.images.numel();
    if (bytes < (std::int64_t(4) << 30)) {
      for (ImageSet* set : {&data.train, &data.validation, &data.test})
        if (set->images.defined()) set->images = set->images.to(device);
      spdlog::info("datasets resident on {} ({} MiB)", device.str(), bytes >> 20);
    }
  }
  torch::manual_seed(tc.seed);
  Model model = build_model(config);
  if (model.output().numel() != static_cast<std::int64_t>(data.class_names.size())) {
    throw ConfigError(config.source().file + ":/layers/" + std::to_string(model.layers.size() - 1) +
                      ": the last layer has " + std::to_string(model.output().numel()) + " outputs but the data has " +
                      std::to_string(data.class_names.size()) + " classes");
  }
  model.net->to(device);
  if (channels_last) to_channels_last(model);
  auto optimizer = make_optimizer(model.net->parameters(), tc.optimizer);
  BatchPipeline pipeline(config, data.normalization, device);
  at::Generator gen = at::detail::createCPUGenerator(tc.seed);

  LoopState st;
  std::string run_dir = options.run_dir;

  if (options.resume) {
    const LoadedCheckpoint& ck = *options.resume;
    load_weights(ck, model);
    if (channels_last) to_channels_last(model);
    ck.load_optimizer(*optimizer);
    st.from_json(ck.meta.at("train_state"));
    if (ck.tensors.count("generator")) gen.set_state(ck.tensors.at("generator"));
    if (ck.tensors.count("torch_cpu_rng")) {
      at::Generator global = at::detail::getDefaultCPUGenerator();
      global.set_state(ck.tensors.at("torch_cpu_rng"));
    }
    if (st.partial_batch > 0) st.perm = ck.tensors.at("perm");
    if (run_dir.empty()) run_dir = fs::path(ck.path).parent_path().string();
    spdlog::info("resuming from {} after epoch {}{}", ck.path, st.epoch,
                 st.partial_batch ? " (and " + std::to_string(st.partial_batch) + " batches of the next)" : "");
  }
  if (run_dir.empty()) run_dir = default_run_dir(config.name());
  fs::create_directories(run_dir);
  MetricsLog metrics(run_dir);
  if (options.resume) metrics.set_history(options.resume->meta.value("history", nlohmann::json::array()));

  auto summary = summarize(model, config.name());
  write_text_atomically(fs::path(run_dir) / "config.json", config.resolved().dump(2) + "\n");
  write_text_atomically(fs::path(run_dir) / "summary.json", summary.dump(2) + "\n");
  write_text_atomically(fs::path(run_dir) / "summary.txt", format_summary(summary));

  const std::int64_t n_train = data.train.size();
  const std::int64_t steps_per_epoch = (n_train + tc.batch_size - 1) / tc.batch_size;
  const std::string last_path = (fs::path(run_dir) / "last.pt").string();
  const std::string best_path = (fs::path(run_dir) / "best.pt").string();
  spdlog::info("training {} on {}: {} train images, validating on the {} ({} images), {} epochs of {} steps, run dir {}",
               config.name(), device.str(), n_train, val_name, val_set.size(), tc.epochs, steps_per_epoch, run_dir);

  auto checkpoint_data = [&]() {
    CheckpointData cd;
    cd.config = config.resolved();
    cd.meta = {{"class_names", data.class_names},
               {"normalization", normalization_json(data.normalization)},
               {"epoch", st.epoch},
               {"train_state", st.to_json()},
               {"history", metrics.rows()},
               {"metrics", metrics.rows().empty() ? nlohmann::json() : metrics.rows().back()},
               {"cnnkit_version", CNNKIT_VERSION}};
    cd.tensors["generator"] = gen.get_state();
    cd.tensors["torch_cpu_rng"] = at::detail::getDefaultCPUGenerator().get_state();
    if (st.partial_batch > 0 && st.perm.defined()) cd.tensors["perm"] = st.perm;
    return cd;
  };

  install_interrupt_handlers();
  Progress progress(options.progress && !quiet_mode(), stderr_is_terminal());
  TrainResult result;
  result.run_dir = run_dir;
  EvalOptions eval_opts;
  eval_opts.batch_size = tc.eval_batch_size;
  eval_opts.channels_last = channels_last;
  eval_opts.bf16 = bf16;
  auto ce_opts = torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(tc.label_smoothing);
  const bool check_every_step = device.is_cpu();

  while (st.epoch < tc.epochs) {
    const int epoch = st.epoch + 1;
    model.net->train();
    torch::Tensor perm;
    std::int64_t first_batch = 0;
    double loss_sum_host = 0.0;
    std::int64_t correct_host = 0, seen = 0;
    double carried_seconds = 0.0;
    if (st.partial_batch > 0) {
      perm = st.perm;
      first_batch = st.partial_batch;
      loss_sum_host = st.partial_loss_sum;
      correct_host = st.partial_correct;
      seen = st.partial_seen;
      carried_seconds = st.partial_seconds;
    } else {
      perm = torch::randperm(n_train, gen, torch::TensorOptions().dtype(torch::kInt64));
    }
    auto loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device));
    auto correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64).device(device));
    progress.begin_epoch(epoch, tc.epochs, steps_per_epoch, n_train);
    auto t0 = Clock::now();
    for (std::int64_t b = first_batch; b < steps_per_epoch; ++b) {
      std::int64_t start = b * tc.batch_size, end = std::min(n_train, start + tc.batch_size);
      auto idx = perm.slice(0, start, end);
      auto x = pipeline.batch(data.train, idx, true, gen);
      auto y = data.train.labels.index_select(0, idx).to(device, /*non_blocking=*/true);
      double lr = scheduled_lr(tc.schedule, tc.optimizer.lr, st.step, steps_per_epoch, tc.epochs) * st.lr_factor;
      set_learning_rate(*optimizer, lr);
      optimizer->zero_grad();
      auto logits = forward_logits(model, x, channels_last, bf16);
      auto loss = torch::nn::functional::cross_entropy(logits, y, ce_opts);
      if (check_every_step) {
        double l = loss.item<double>();
        if (!std::isfinite(l)) {
          progress.end_epoch();
          throw TrainingError("non-finite loss (" + std::to_string(l) + ") at epoch " + std::to_string(epoch) +
                              ", batch " + std::to_string(b + 1) + "; training stopped" +
                              (fs::exists(last_path) ? ", the last good checkpoint " + last_path + " is kept" : "") +
                              " (try a lower learning rate or grad_clip)");
        }
      }
      loss.backward();
      if (tc.grad_clip > 0) torch::nn::utils::clip_grad_norm_(model.net->parameters(), tc.grad_clip);
      optimizer->step();
      ++st.step;
      seen += end - start;
      {
        torch::NoGradGuard no_grad;
        loss_sum += loss.detach().to(torch::kFloat64) * static_cast<double>(end - start);
        correct += logits.argmax(1).eq(y).sum();
      }
      if (progress.wants_update()) {
        double l = (loss_sum.item<double>() + loss_sum_host) / static_cast<double>(seen);
        double a = static_cast<double>(correct.item<std::int64_t>() + correct_host) / static_cast<double>(seen);
        if (!std::isfinite(l)) {
          progress.end_epoch();
          throw TrainingError("non-finite loss at epoch " + std::to_string(epoch) + ", at or before batch " +
                              std::to_string(b + 1) + "; training stopped" +
                              (fs::exists(last_path) ? ", the last good checkpoint " + last_path + " is kept" : ""));
        }
        progress.update(b + 1, seen, l, a);
      }
      if (interrupt_requested()) {
        progress.end_epoch();
        st.partial_batch = b + 1;
        st.partial_loss_sum = loss_sum.item<double>() + loss_sum_host;
        st.partial_correct = correct.item<std::int64_t>() + correct_host;
        st.partial_seen = seen;
        st.partial_seconds = carried_seconds + std::chrono::duration<double>(Clock::now() - t0).count();
        st.perm = perm;
        save_checkpoint(last_path, model, checkpoint_data(), optimizer.get());
        std::string sig = interrupt_signal() == SIGTERM ? "SIGTERM" : "SIGINT";
        throw InterruptedError("interrupted by " + sig + " at epoch " + std::to_string(epoch) + ", batch " +
                               std::to_string(b + 1) + "/" + std::to_string(steps_per_epoch) + "; checkpoint saved to " +
                               last_path + "; continue with: cnnkit train --resume " + run_dir);
      }
    }
    double train_loss = (loss_sum.item<double>() + loss_sum_host) / static_cast<double>(std::max<std::int64_t>(1, seen));
    double train_acc = static_cast<double>(correct.item<std::int64_t>() + correct_host) /
                       static_cast<double>(std::max<std::int64_t>(1, seen));
    double seconds = carried_seconds + std::chrono::duration<double>(Clock::now() - t0).count();
    progress.end_epoch();
    if (!std::isfinite(train_loss)) {
      throw TrainingError("non-finite loss in epoch " + std::to_string(epoch) + "; training stopped" +
                          (fs::exists(last_path) ? ", the last good checkpoint " + last_path + " is kept" : ""));
    }
    st.partial_batch = 0;
    st.perm = torch::Tensor();
    st.elapsed += seconds;

    EvalResult val = evaluate(model, val_set, pipeline, device, data.class_names, eval_opts);
    double lr_now = scheduled_lr(tc.schedule, tc.optimizer.lr, std::max<std::int64_t>(0, st.step - 1), steps_per_epoch,
                                 tc.epochs) * st.lr_factor;
    nlohmann::json row = {{"epoch", epoch},
                          {"train_loss", train_loss},
                          {"train_accuracy", train_acc},
                          {"val_loss", val.loss},
                          {"val_accuracy", val.top1},
                          {"lr", lr_now},
                          {"seconds", seconds},
                          {"images_per_second", static_cast<double>(n_train) / std::max(1e-9, seconds)}};
    st.epoch = epoch;
    metrics.append(row);
    auto metric_value = [&](const std::string& m) {
      if (m == "val_loss") return val.loss;
      if (m == "val_accuracy") return val.top1;
      if (m == "train_loss") return train_loss;
      return train_acc;
    };
    if (tc.reduce_on_plateau.enabled && !st.plateau.observe(metric_value(tc.reduce_on_plateau.metric), tc.reduce_on_plateau) &&
        st.plateau.bad_epochs > tc.reduce_on_plateau.patience) {
      double base = scheduled_lr(tc.schedule, tc.optimizer.lr, st.step, steps_per_epoch, tc.epochs);
      double new_factor = std::max(st.lr_factor * tc.reduce_on_plateau.factor, tc.reduce_on_plateau.min_lr / std::max(base, 1e-30));
      if (new_factor < st.lr_factor) {
        st.lr_factor = new_factor;
        spdlog::info("{} has not improved for {} epochs: learning rate x{:.3g}", tc.reduce_on_plateau.metric,
                     st.plateau.bad_epochs, tc.reduce_on_plateau.factor);
      }
      st.plateau.bad_epochs = 0;
    }
    bool stop_early = false;
    if (tc.early_stopping.enabled && !st.early.observe(metric_value(tc.early_stopping.metric), tc.early_stopping) &&
        st.early.bad_epochs > tc.early_stopping.patience) {
      stop_early = true;
    }
    bool is_best = val.top1 > st.best_val_accuracy;
    if (is_best) {
      st.best_val_accuracy = val.top1;
      st.best_epoch = epoch;
    }
    CheckpointData cd = checkpoint_data();
    save_checkpoint(last_path, model, cd, optimizer.get());
    if (is_best) save_checkpoint(best_path, model, cd, optimizer.get());
    try {
      write_training_curves((fs::path(run_dir) / "curves.png").string(), metrics.rows(), config.name());
    } catch (const ImageIOError& e) {
      if (epoch == 1) spdlog::warn("{}", e.what());
    }
    spdlog::info("epoch {}/{}  {}{}", epoch, tc.epochs, fmt_metrics(row), is_best ? "  (best)" : "");
    if (options.json_lines) {
      nlohmann::json line = row;
      line["event"] = "epoch";
      std::printf("%s\n", line.dump().c_str());
      std::fflush(stdout);
    }
    if (stop_early) {
      spdlog::info("early stopping: {} has not improved for {} epochs", tc.early_stopping.metric, st.early.bad_epochs);
      result.early_stopped = true;
      break;
    }
  }
  result.epochs_completed = st.epoch;

  // Final figures on the test split with the final weights.
  EvalResult test = evaluate(model, data.test, pipeline, device, data.class_names, eval_opts);
  result.test = test.to_json();
  nlohmann::json final_doc = {{"run_dir", run_dir},
                              {"epochs", st.epoch},
                              {"early_stopped", result.early_stopped},
                              {"best_epoch", st.best_epoch},
                              {"best_val_accuracy", st.best_val_accuracy},
                              {"training_seconds", st.elapsed},
                              {"test", result.test}};
  write_text_atomically(fs::path(run_dir) / "final.json", final_doc.dump(2) + "\n");
  return result;
}

}  // namespace cnnkit
