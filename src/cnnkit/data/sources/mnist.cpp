// mnist: MNIST-format IDX files (MNIST, Fashion-MNIST, KMNIST, ...), raw or .gz, under the
// canonical names (data/idx.h). Optional class_names for the labels (default "0".."9").
#include "cnnkit/core/error.h"
#include "cnnkit/data/idx.h"
#include "cnnkit/data/source.h"

namespace cnnkit {
namespace {

constexpr std::size_t kMaxIdxClasses = 256;  // IDX labels are bytes
constexpr int kDefaultClasses = 10;

ImageSet load_pair(const std::string& root, const std::string& split, std::int64_t classes,
                   std::vector<std::string>& files) {
  auto names = mnist_file_names(split);
  const std::string images_path = find_idx_file(root, names[0]);
  const std::string labels_path = find_idx_file(root, names[1]);
  files.push_back(images_path);
  files.push_back(labels_path);
  ImageSet set{read_idx_images(images_path), read_idx_labels(labels_path, classes)};
  if (set.images.size(0) != set.labels.size(0)) {
    throw DataError(labels_path + ": " + std::to_string(set.labels.size(0)) + " labels but " + images_path + " has " +
                    std::to_string(set.images.size(0)) + " images");
  }
  return set;
}

class MnistSource : public DataSource {
 public:
  std::string doc() const override { return "MNIST-format IDX files (train-images-idx3-ubyte[.gz], ...)"; }
  std::vector<std::string> keys() const override { return {"class_names"}; }
  std::string default_root() const override { return "data/mnist"; }
  void resolve(const ConfigView& v, const InputShape&, json& out) const override {
    std::vector<std::string> names;
    if (auto c = v.find("class_names")) {
      c->require_array(true);
      for (std::size_t i = 0; i < c->size(); ++i) names.push_back(c->at(i).as_string());
      if (names.size() > kMaxIdxClasses)
        c->fail("IDX labels are bytes: at most 256 classes; got " + std::to_string(names.size()));
    } else {
      for (int i = 0; i < kDefaultClasses; ++i) names.push_back(std::to_string(i));
    }
    out["class_names"] = names;
  }
  LoadedSource load(const SourceRequest& r) const override {
    LoadedSource l;
    l.class_names = r.section.at("class_names").get<std::vector<std::string>>();
    const auto classes = static_cast<std::int64_t>(l.class_names.size());
    if (r.need_train) l.train = load_pair(r.root, "train", classes, l.files);
    if (r.need_test) l.test = load_pair(r.root, "t10k", classes, l.files);
    const ImageSet& any = l.train.size() ? l.train : l.test;
    if (any.images.defined()) l.source_shape = {1, any.images.size(2), any.images.size(3)};
    if (l.train.size() && l.test.size() &&
        (l.train.images.size(2) != l.test.images.size(2) || l.train.images.size(3) != l.test.images.size(3))) {
      throw DataError(l.files[2] + ": images are " + std::to_string(l.test.images.size(2)) + "×" +
                      std::to_string(l.test.images.size(3)) + " but the training images are " +
                      std::to_string(l.train.images.size(2)) + "×" + std::to_string(l.train.images.size(3)));
    }
    return l;
  }
};
DataSourceRegistrar<MnistSource> registrar("mnist");

}  // namespace
}  // namespace cnnkit
