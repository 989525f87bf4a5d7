// torchscript: model.ts, a self-contained TorchScript module (torchscript.h) with the export
// metadata stored inside it as the extra file "cnnkit.json".
#include <sstream>

#include "cnnkit/core/atomic_file.h"
#include "cnnkit/export/export_error.h"
#include "cnnkit/export/export_format.h"

namespace cnnkit {
namespace {

class TorchScriptFormat : public ExportFormat {
 public:
  std::string name() const override { return "torchscript"; }
  std::string doc() const override {
    return "model.ts: TorchScript, for torch::jit::load (C++) and torch.jit.load (Python)";
  }
  int order() const override { return 0; }
  void write(ExportContext& ctx) const override {
    const auto path = ctx.out_dir / "model.ts";
    const torch::jit::Module& m = ctx.torchscript();
    const torch::jit::ExtraFilesMap extra{{"cnnkit.json", ctx.torchscript_metadata()}};
    std::ostringstream bytes;
    try {
      m.save(bytes, extra);
    } catch (const c10::Error& e) {
      const std::string what = e.what_without_backtrace();
      throw ExportError(path.string() + ": cannot write: " + what.substr(0, what.find('\n')));
    }
    try {
      write_file_atomically(path, bytes.str());
    } catch (const ExportError&) {
      throw;
    } catch (const Error& e) {
      throw ExportError(e.what());
    }
    ctx.set_torchscript_file(path);
    ctx.add_file(name(), path);
  }
};

CNNKIT_REGISTER_EXPORT_FORMAT(TorchScriptFormat);

}  // namespace
}  // namespace cnnkit
