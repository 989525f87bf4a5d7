// Export formats are a registry (DESIGN.md): each format is one file that registers itself
// with CNNKIT_REGISTER_EXPORT_FORMAT and writes its files into the output folder through an
// ExportContext, which holds what formats share (the lowered model, its TorchScript module).
#pragma once
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/csrc/jit/api/module.h>
#include <nlohmann/json.hpp>

#include "cnnkit/eval/trained_model.h"
#include "cnnkit/export/module_tree.h"

namespace cnnkit {

class ExportContext {
 public:
  ExportContext(const TrainedModel& trained, const ModuleTree& tree, std::filesystem::path out_dir, bool normalize,
                int opset);
  ~ExportContext();  // removes the temporary TorchScript file, if one was made

  const TrainedModel& trained;
  const ModuleTree& tree;
  const std::filesystem::path out_dir;
  const bool normalize;  // normalisation inside model.ts / model.onnx (false: --raw)
  const int opset;
  nlohmann::json manifest = nlohmann::json::object();  // formats add their sections

  // The TorchScript module, built on first use and checked against the model's own outputs.
  const torch::jit::Module& torchscript();
  // Metadata stored inside model.ts as the extra file "cnnkit.json".
  std::string torchscript_metadata() const;
  // A saved TorchScript file: model.ts when the torchscript format wrote it, else a temporary one.
  std::filesystem::path torchscript_file();
  void set_torchscript_file(const std::filesystem::path& path) { torchscript_file_ = path; }
  // Records a written file in the manifest ("files": format, path, bytes, sha256).
  void add_file(const std::string& format, const std::filesystem::path& path);

 private:
  std::optional<torch::jit::Module> torchscript_;
  std::filesystem::path torchscript_file_;
  std::filesystem::path temporary_file_;
};

class ExportFormat {
 public:
  virtual ~ExportFormat() = default;
  virtual std::string name() const = 0;
  virtual std::string doc() const = 0;  // one line: the files it writes
  virtual int order() const = 0;        // formats are written in this order (onnx reads model.ts)
  // Why this machine cannot write the format, or "" (asked before anything is written).
  virtual std::string unavailable() const { return ""; }
  virtual void write(ExportContext& ctx) const = 0;
};

class ExportFormatRegistry {
 public:
  static ExportFormatRegistry& instance();
  void add(std::unique_ptr<ExportFormat> format);  // a duplicate name is refused (logic_error)
  const ExportFormat* find(const std::string& name) const;
  std::vector<const ExportFormat*> formats() const;  // in writing order
  std::vector<std::string> names() const;            // in writing order

 private:
  std::map<std::string, std::unique_ptr<ExportFormat>> formats_;
};

template <typename T>
struct ExportFormatRegistrar {
  ExportFormatRegistrar() { ExportFormatRegistry::instance().add(std::make_unique<T>()); }
};

#define CNNKIT_REGISTER_EXPORT_FORMAT(Type) \
  static ::cnnkit::ExportFormatRegistrar<Type> cnnkit_export_format_registrar_##Type

}  // namespace cnnkit
