// folder: an image folder per split, ROOT/<train_dir>/<class>/*.{png,jpg,jpeg,bmp} and
// ROOT/<test_dir>/<class>/... (data/image_folder.h), decoded with OpenCV, converted to the
// model's channels and resized to its input (unless resize is false).
#include <filesystem>

#include "cnnkit/core/error.h"
#include "cnnkit/data/data_config.h"
#include "cnnkit/data/image_folder.h"
#include "cnnkit/data/source.h"

namespace cnnkit {
namespace {
namespace fs = std::filesystem;

class FolderSource : public DataSource {
 public:
  std::string doc() const override { return "image folders: ROOT/train/<class>/*.png|jpg, ROOT/test/<class>/..."; }
  std::vector<std::string> keys() const override { return {"train_dir", "test_dir", "on_bad_image", "resize"}; }
  std::string default_root() const override { return ""; }  // required
  void resolve(const ConfigView& v, const InputShape&, json& out) const override {
    out["train_dir"] = v.get_string("train_dir", "train");
    if (out["train_dir"].get<std::string>().empty()) v.at("train_dir").fail("must not be empty");
    out["test_dir"] = v.get_string("test_dir", "test");
    out["on_bad_image"] = v.get_choice("on_bad_image", "error", {"error", "skip"});
    out["resize"] = v.get_bool("resize", true);
  }
  LoadedSource load(const SourceRequest& r) const override;
};

LoadedSource FolderSource::load(const SourceRequest& r) const {
  const InputShape& t = r.input;
  if (t.channels != 1 && t.channels != 3) {
    throw DataError(r.root + ": image folders give 1 (gray) or 3 (RGB) channels; the model input has " +
                    std::to_string(t.channels));
  }
  const json& s = r.section;
  const std::string train_dir = (fs::path(r.root) / s.at("train_dir").get<std::string>()).string();
  const std::string test_name = s.at("test_dir").get<std::string>();
  const std::string test_dir = test_name.empty() ? "" : (fs::path(r.root) / test_name).string();
  FolderLoadOptions fo;
  fo.channels = static_cast<int>(t.channels);
  fo.size = ImageSize{t.height, t.width};
  fo.resize = s.at("resize").get<bool>();
  fo.skip_bad = s.at("on_bad_image").get<std::string>() == "skip";
  const std::int64_t split_seed = s.value("split_seed", kDefaultSplitSeed);
  LoadedSource l;
  std::int64_t skipped = 0, resized = 0;
  json skipped_files = json::array();
  auto load = [&](const FolderScan& scan) {
    auto res = load_image_folder(scan, fo);
    skipped += static_cast<std::int64_t>(res.skipped.size());
    resized += res.resized;
    for (const auto& f : res.skipped) skipped_files.push_back(f);
    return res.set;
  };
  std::error_code ec;
  if (r.need_train || fs::is_directory(train_dir, ec) || test_dir.empty()) {
    FolderScan train = scan_image_folder(train_dir);
    l.class_names = train.class_names;
    l.files.push_back(train_dir);
    // limit_train: decode only the images the stratified subset keeps (the same subset that
    // load_datasets would pick from the whole decoded folder).
    if (r.need_train) l.train = load(limit_scan(train, s.value("limit_train", std::int64_t{0}), split_seed));
  }
  if (r.need_test && !test_dir.empty()) {
    FolderScan test = scan_image_folder(test_dir, l.class_names);
    if (l.class_names.empty()) l.class_names = test.class_names;
    l.files.push_back(test_dir);
    l.test = load(limit_scan(test, s.value("limit_test", std::int64_t{0}), split_seed));
  }
  l.source_shape = {t.channels, t.height, t.width};
  l.extra["skipped_images"] = skipped;
  l.extra["skipped_files"] = skipped_files;
  l.extra["resized_images"] = resized;
  return l;
}

DataSourceRegistrar<FolderSource> registrar("folder");

}  // namespace
}  // namespace cnnkit
