#include "cnnkit/export/onnx.h"

#include "cnnkit/core/atomic_file.h"
#include "cnnkit/export/export_error.h"
#include "cnnkit/export/python_tool.h"

namespace cnnkit {
namespace {

// argv: model.ts, output path, opset, C, H, W. Prints one JSON line on stdout.
const char* kScript = R"PY(
import json, sys, warnings
try:
    import torch
except ImportError as e:
    print(json.dumps({"error": "no torch: %s" % e}))
    sys.exit(3)
ts, out, opset = sys.argv[1], sys.argv[2], int(sys.argv[3])
shape = [int(v) for v in sys.argv[4:7]]
warnings.simplefilter("ignore")
model = torch.jit.load(ts, map_location="cpu").eval()
example = torch.rand([2] + shape)
torch.onnx.export(model, (example,), out, input_names=["images"], output_names=["logits"],
                  dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}}, opset_version=opset)
result = {"opset": opset, "torch": torch.__version__}
try:
    import onnx
except ImportError:
    result["checker"] = "not run: python3-onnx is not installed"
else:
    graph = onnx.load(out)
    onnx.checker.check_model(graph)
    result["checker"] = "passed (onnx %s)" % onnx.__version__
    def dims(value):
        return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]
    result["graph_inputs"] = {v.name: dims(v) for v in graph.graph.input}
    result["graph_outputs"] = {v.name: dims(v) for v in graph.graph.output}
print(json.dumps(result))
)PY";

std::string last_line(const std::string& s) {
  std::size_t end = s.find_last_not_of("\r\n ");
  if (end == std::string::npos) return "";
  std::size_t start = s.rfind('\n', end);
  return s.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

}  // namespace

std::string onnx_unavailable_reason() {
  const PythonSearch py = find_python_with("torch");
  if (!py.python.empty()) return "";
  return "ONNX export needs python3 with PyTorch (tried " + py.tried +
         "); install Debian's python3-torch (apt-get install python3-torch, and python3-onnx to check the file), "
         "or set CNNKIT_PYTHON to a python3 that has torch";
}

nlohmann::json export_onnx(const std::filesystem::path& torchscript_file, const std::filesystem::path& onnx_file,
                           const Shape& input, int opset) {
  const std::string reason = onnx_unavailable_reason();
  if (!reason.empty()) throw ExportError(onnx_file.string() + ": " + reason);
  const std::string python = find_python_with("torch").python;
  nlohmann::json result;
  write_atomically(onnx_file, [&](const std::filesystem::path& tmp) {
    const ProcessResult r =
        run_process({python, "-c", kScript, torchscript_file.string(), tmp.string(), std::to_string(opset),
                     std::to_string(input.channels()), std::to_string(input.height()), std::to_string(input.width())});
    if (r.exit_code != 0) {
      std::string why = last_line(r.err);
      if (why.empty()) why = last_line(r.out);
      throw ExportError(onnx_file.string() + ": torch.onnx.export failed (" + python + " exit " +
                        std::to_string(r.exit_code) + "): " + why);
    }
    try {
      result = nlohmann::json::parse(last_line(r.out));
    } catch (const nlohmann::json::exception&) {
      throw ExportError(onnx_file.string() + ": unexpected output from the ONNX export script: " + last_line(r.out));
    }
  });
  result["input"] = "images";
  result["output"] = "logits";
  result["python"] = python;
  return result;
}

}  // namespace cnnkit
