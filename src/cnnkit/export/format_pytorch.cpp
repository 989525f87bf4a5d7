// pytorch: weights.pt (the state dict, read by Python's torch.load as a plain dict) and
// model.py (a readable torch.nn definition whose keys match it; pytorch.h).
#include "cnnkit/core/atomic_file.h"
#include "cnnkit/core/sha256.h"
#include "cnnkit/export/export_format.h"
#include "cnnkit/export/pytorch.h"

namespace cnnkit {
namespace {

class PyTorchFormat : public ExportFormat {
 public:
  std::string name() const override { return "pytorch"; }
  std::string doc() const override { return "weights.pt + model.py: a state dict and the torch.nn module it fits"; }
  int order() const override { return 1; }
  void write(ExportContext& ctx) const override {
    const auto weights = ctx.out_dir / "weights.pt";
    write_state_dict(weights, ctx.tree);
    ctx.add_file(name(), weights);

    PythonModuleInfo info;
    info.model_name = ctx.trained.config.name();
    info.source = ctx.trained.checkpoint.path;
    info.source_sha256 = ctx.manifest.at("source").at("sha256").get<std::string>();
    info.normalization = ctx.trained.normalization;
    info.class_names = ctx.trained.class_names;
    const auto module = ctx.out_dir / "model.py";
    write_text_atomically(module, python_module_source(ctx.tree, info));
    ctx.add_file(name(), module);
  }
};

CNNKIT_REGISTER_EXPORT_FORMAT(PyTorchFormat);

}  // namespace
}  // namespace cnnkit
