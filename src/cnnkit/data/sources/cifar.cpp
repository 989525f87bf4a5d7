// cifar10 / cifar100: the datasets' "binary version" files (data/cifar.h).
#include <filesystem>

#include "cnnkit/data/cifar.h"
#include "cnnkit/data/source.h"

namespace cnnkit {
namespace {
namespace fs = std::filesystem;

class CifarSource : public DataSource {
 public:
  explicit CifarSource(std::string name) : name_(std::move(name)) {}
  std::string doc() const override {
    return name_ == "cifar10" ? "CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin, batches.meta.txt)"
                              : "CIFAR-100 binary files (train.bin, test.bin, fine_label_names.txt)";
  }
  std::string default_root() const override { return "data/" + name_; }
  LoadedSource load(const SourceRequest& r) const override {
    LoadedSource l;
    const CifarLayout layout = cifar_layout(name_);
    auto paths = [&](const std::vector<std::string>& names) {
      std::vector<std::string> out;
      for (const auto& n : names) out.push_back((fs::path(r.root) / n).string());
      return out;
    };
    if (r.need_train) {
      auto p = paths(layout.train_files);
      l.train = read_cifar_files(p, layout);
      l.files.insert(l.files.end(), p.begin(), p.end());
    }
    if (r.need_test) {
      auto p = paths(layout.test_files);
      l.test = read_cifar_files(p, layout);
      l.files.insert(l.files.end(), p.begin(), p.end());
    }
    const std::string names = (fs::path(r.root) / layout.names_file).string();
    l.class_names = read_cifar_class_names(names, layout);
    std::error_code ec;
    if (fs::exists(names, ec)) l.files.push_back(names);
    l.source_shape = {3, 32, 32};
    return l;
  }

 private:
  std::string name_;
};
DataSourceRegistrar<CifarSource> cifar10("cifar10", "cifar10");
DataSourceRegistrar<CifarSource> cifar100("cifar100", "cifar100");

}  // namespace
}  // namespace cnnkit
