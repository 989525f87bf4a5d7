// onnx: model.onnx, converted from the TorchScript module by PyTorch's exporter (onnx.h).
#include "cnnkit/export/export_format.h"
#include "cnnkit/export/onnx.h"

namespace cnnkit {
namespace {

class OnnxFormat : public ExportFormat {
 public:
  std::string name() const override { return "onnx"; }
  std::string doc() const override { return "model.onnx: ONNX (needs python3 with torch at export time)"; }
  int order() const override { return 2; }
  std::string unavailable() const override { return onnx_unavailable_reason(); }
  void write(ExportContext& ctx) const override {
    const auto path = ctx.out_dir / "model.onnx";
    ctx.manifest["onnx"] = export_onnx(ctx.torchscript_file(), path, ctx.tree.input, ctx.opset);
    ctx.add_file(name(), path);
  }
};

CNNKIT_REGISTER_EXPORT_FORMAT(OnnxFormat);

}  // namespace
}  // namespace cnnkit
