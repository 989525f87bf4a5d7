// Weights in (model/init_weights.h): a state dict trained in Python from the exported model.py
// loads and gives Python's logits; cnnkit checkpoints load too; strict mode refuses files that
// do not fit in one line listing what is missing, unexpected and of another shape (long lists
// cut short) and changes nothing; partial mode loads the fitting subset and reports the rest;
// OrderedDict, pickled-module, legacy-format and malformed files get messages that say what
// to do.
#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <fstream>

#include "cnnkit/core/error.h"
#include "cnnkit/eval/trained_model.h"
#include "cnnkit/export/exporter.h"
#include "cnnkit/model/init_weights.h"
#include "export/export_support.h"
#include "support/cli.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using namespace cnnkit::test;

namespace {

json small_model(int classes) {
  return model_config("small", 1, 12, 12,
                      std::vector<json>{{{"type", "conv2d"},
                                         {"filters", 4},
                                         {"kernel_size", 3},
                                         {"padding", "same"},
                                         {"batch_norm", true},
                                         {"activation", "relu"}},
                                        {{"type", "maxpool2d"}, {"pool_size", 2}},
                                        {{"type", "dropout"}, {"rate", 0.2}},
                                        {{"type", "flatten"}},
                                        {{"type", "dense"}, {"units", classes}}});
}

Model build(int classes = 10) { return build_model(resolve_doc(small_model(classes))); }

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const CheckpointError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<other: ") + e.what() + ">";
  }
  return "<no error>";
}

void write_bytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The model's own state as a c10::Dict, edited by `edit`, saved with pickle_save.
std::string state_dict_file(const TempDir& dir, const std::string& name, Model& model,
                            const std::function<void(c10::Dict<std::string, at::Tensor>&)>& edit) {
  c10::Dict<std::string, at::Tensor> d;
  for (const auto& p : model.net->named_parameters(true)) d.insert(p.key(), p.value().detach().clone());
  for (const auto& b : model.net->named_buffers(true)) d.insert(b.key(), b.value().detach().clone());
  edit(d);
  const std::string path = dir.str(name);
  write_bytes(path, torch::pickle_save(d));
  return path;
}

torch::Tensor param(Model& m, const std::string& key) { return m.net->named_parameters(true)[key].detach().clone(); }

class InitWeights : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>("cnnkit-init-weights");
    checkpoint_ = dir_->str("small.pt");
    write_random_checkpoint(small_model(10), checkpoint_, 3);
  }
  static void TearDownTestSuite() { dir_.reset(); }
  // The Python-made files, made on first use (under ctest every test is its own process).
  void require_python() {
    if (python_with_torch().empty()) GTEST_SKIP() << "no python3 with torch (install python3-torch)";
    if (!python_tried_) {
      python_tried_ = true;
      ExportRequest request;
      request.out_dir = dir_->str("export");
      request.formats = {"pytorch"};
      export_model(load_trained_model(checkpoint_), request);
      const ProcessResult r =
          run_python({source_dir() + "/tests/model/init_weights_fixtures.py", dir_->str("export"), dir_->str("")});
      python_ok_ = r.exit_code == 0;
      python_err_ = r.err;
    }
    ASSERT_TRUE(python_ok_) << python_err_;
  }
  static std::unique_ptr<TempDir> dir_;
  static std::string checkpoint_;
  static bool python_tried_;
  static bool python_ok_;
  static std::string python_err_;
};

std::unique_ptr<TempDir> InitWeights::dir_;
std::string InitWeights::checkpoint_;
bool InitWeights::python_tried_ = false;
bool InitWeights::python_ok_ = false;
std::string InitWeights::python_err_;

}  // namespace

TEST_F(InitWeights, StateDictTrainedInPythonLoadsAndGivesPythonsLogits) {
  require_python();
  Model m = build();
  InitWeightsReport r = load_init_weights(m, dir_->str("trained.pt"));
  EXPECT_EQ(r.source, "PyTorch state dict");
  EXPECT_EQ(r.loaded.size(), m.net->named_parameters(true).size() + m.net->named_buffers(true).size());
  EXPECT_TRUE(r.missing.empty() && r.unexpected.empty() && r.mismatched.empty());
  EXPECT_EQ(r.summary(), dir_->str("trained.pt") + " (PyTorch state dict): loaded 8 of 8 model tensors");

  std::ifstream in(dir_->str("trained_logits.pt"), std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto expected = torch::pickle_load(bytes).toGenericDict();
  m.net->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor logits = m.net->forward(expected.at("inputs").toTensor());
  EXPECT_LE((logits - expected.at("logits").toTensor()).abs().max().item<double>(), 1e-5);
  // Python trained it: the weights are not the exported ones any more.
  TrainedModel exported = load_trained_model(checkpoint_);
  EXPECT_GT((param(m, "dense.linear.weight") - param(exported.model, "dense.linear.weight")).abs().max().item<double>(),
            1e-4);
  EXPECT_EQ(m.net->named_buffers(true)["conv2d.bn.num_batches_tracked"].item<std::int64_t>(), 7 + 3);
}

// One test for the three Python files (each python3 run costs seconds under ctest).
TEST_F(InitWeights, OrderedDictPickledModuleAndLegacyFormatAreExplained) {
  require_python();
  Model m = build();
  std::string msg = message_of([&] { load_init_weights(m, dir_->str("ordered.pt")); });
  EXPECT_NE(msg.find("ordered.pt: holds a Python OrderedDict"), std::string::npos) << msg;
  EXPECT_NE(msg.find("torch.save(dict(model.state_dict()), path)"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);
  msg = message_of([&] { load_init_weights(m, dir_->str("module.pt")); });
  EXPECT_NE(msg.find("module.pt: holds a pickled Python object, not a state dict"), std::string::npos) << msg;
  EXPECT_NE(msg.find("dict(model.state_dict())"), std::string::npos) << msg;
  msg = message_of([&] { load_init_weights(m, dir_->str("legacy.pt")); });
  EXPECT_NE(msg.find("legacy.pt: a legacy (non-zip) torch.save file"), std::string::npos) << msg;
}

TEST_F(InitWeights, CnnkitCheckpointLoads) {
  Model m = build();
  InitWeightsReport r = load_init_weights(m, checkpoint_);
  EXPECT_EQ(r.source, "cnnkit checkpoint");
  EXPECT_TRUE(r.missing.empty() && r.unexpected.empty() && r.mismatched.empty());
  TrainedModel t = load_trained_model(checkpoint_);
  for (const auto& p : t.model.net->named_parameters(true))
    EXPECT_TRUE(torch::equal(param(m, p.key()), p.value())) << p.key();
  EXPECT_TRUE(torch::equal(m.net->named_buffers(true)["conv2d.bn.running_var"],
                           t.model.net->named_buffers(true)["conv2d.bn.running_var"]));
}

TEST_F(InitWeights, StrictModeListsEveryKindOfMismatchInOneLineAndChangesNothing) {
  Model source = build();
  const std::string path = state_dict_file(*dir_, "mismatch.pt", source, [](auto& d) {
    EXPECT_EQ(d.erase("dense.linear.bias"), 1u);
    d.insert("conv.weight", d.at("conv2d.conv.weight"));
    EXPECT_EQ(d.erase("conv2d.conv.weight"), 1u);
    d.insert_or_assign("dense.linear.weight", torch::zeros({7, 144}));
  });
  Model m = build();
  const torch::Tensor before = param(m, "conv2d.bn.weight");
  InitWeightsOptions o;
  o.partial_hint = "--init-weights-partial";
  const std::string msg = message_of([&] { load_init_weights(m, path, o); });
  EXPECT_EQ(msg, path +
                     ": the PyTorch state dict does not fit the model: 2 missing (conv2d.conv.weight, "
                     "dense.linear.bias), 1 unexpected (conv.weight), 1 with another shape (dense.linear.weight: [7, "
                     "144] in the file, [10, 144] in the model); 5 tensors fit: load only those with "
                     "--init-weights-partial");
  EXPECT_TRUE(torch::equal(param(m, "conv2d.bn.weight"), before));
}

TEST_F(InitWeights, LongListsAreCutShort) {
  Model source = build();
  const std::string path = state_dict_file(*dir_, "extra.pt", source, [](auto& d) {
    for (int i = 0; i < 10; ++i) d.insert("extra." + std::to_string(i), torch::zeros({1}));
  });
  Model m = build();
  const std::string msg = message_of([&] { load_init_weights(m, path); });
  EXPECT_NE(msg.find("10 unexpected (extra.0, extra.1, extra.2, extra.3 and 6 more)"), std::string::npos) << msg;
}

TEST_F(InitWeights, PartialLoadsTheFittingSubsetAndReportsTheRest) {
  // Fine-tuning to 7 classes from a 10-class model: everything but the last layer loads.
  Model m = build(7);
  const torch::Tensor dense_before = param(m, "dense.linear.weight");
  InitWeightsOptions o;
  o.partial = true;
  InitWeightsReport r = load_init_weights(m, checkpoint_, o);
  EXPECT_EQ(r.loaded.size(), 6u);
  ASSERT_EQ(r.mismatched.size(), 2u);
  EXPECT_EQ(r.mismatched[0], "dense.linear.weight: [10, 144] in the file, [7, 144] in the model");
  EXPECT_TRUE(torch::equal(param(m, "dense.linear.weight"), dense_before));
  TrainedModel t = load_trained_model(checkpoint_);
  EXPECT_TRUE(torch::equal(param(m, "conv2d.conv.weight"), t.model.net->named_parameters(true)["conv2d.conv.weight"]));
  EXPECT_EQ(r.summary(), checkpoint_ +
                             " (cnnkit checkpoint): loaded 6 of 8 model tensors; skipped 2 with another shape "
                             "(dense.linear.weight: [10, 144] in the file, [7, 144] in the model, dense.linear.bias: "
                             "[10] in the file, [7] in the model)");
}

TEST_F(InitWeights, PartialWithNothingFittingFails) {
  Model source = build();
  const std::string path = state_dict_file(*dir_, "foreign.pt", source, [](auto& d) {
    d.clear();
    d.insert("fc.weight", torch::zeros({2, 2}));
  });
  Model m = build();
  InitWeightsOptions o;
  o.partial = true;
  const std::string msg = message_of([&] { load_init_weights(m, path, o); });
  EXPECT_EQ(msg, path +
                     ": no tensor of the PyTorch state dict fits the model (8 model tensors missing, 1 unexpected, "
                     "0 with another shape)");
}

TEST_F(InitWeights, MalformedFilesGetOneLineMessages) {
  Model m = build();
  auto msg = [&](const std::string& path) { return message_of([&] { load_init_weights(m, path); }); };
  EXPECT_EQ(msg(dir_->str("absent.pt")), dir_->str("absent.pt") + ": weights file not found");
  EXPECT_EQ(msg(dir_->str("")), dir_->str("") + ": is a directory, expected a weights file");
  EXPECT_EQ(msg(dir_->write("empty.pt", "")), dir_->str("empty.pt") + ": empty file, not a state dict or checkpoint");
  EXPECT_EQ(msg(dir_->write("text.pt", "hello")),
            dir_->str("text.pt") + ": neither a PyTorch state dict (torch.save) nor a cnnkit checkpoint");

  const std::string list = dir_->str("list.pt");
  write_bytes(list, torch::pickle_save(c10::List<std::int64_t>({1, 2})));
  EXPECT_NE(msg(list).find("list.pt: holds a GenericList, not a dict of tensors"), std::string::npos) << msg(list);

  c10::impl::GenericDict d(c10::StringType::get(), c10::AnyType::get());
  d.insert("conv2d.conv.weight", c10::IValue(static_cast<std::int64_t>(3)));
  const std::string odd = dir_->str("odd.pt");
  write_bytes(odd, torch::pickle_save(d));
  EXPECT_NE(msg(odd).find("odd.pt: state-dict entry 'conv2d.conv.weight' holds a Int, not a tensor"), std::string::npos)
      << msg(odd);
}
