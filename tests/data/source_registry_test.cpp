// A data source is one registered class: this test adds one ("synthetic") and uses it through
// the same config resolution and load_datasets as the shipped sources.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "cnnkit/data/dataset.h"
#include "cnnkit/data/source.h"
#include "support/cli.h"
#include "support/model_helpers.h"

using namespace cnnkit;
using namespace cnnkit::test;

namespace {

class SyntheticSource : public DataSource {
 public:
  std::string doc() const override { return "random images, for tests"; }
  std::vector<std::string> keys() const override { return {"images", "classes"}; }
  std::string default_root() const override { return "."; }
  void resolve(const ConfigView& v, const InputShape&, json& out) const override {
    out["images"] = v.get_int("images", 20, 1, 100000);
    out["classes"] = v.get_int("classes", 2, 1, 100);
  }
  LoadedSource load(const SourceRequest& r) const override {
    const auto n = r.section.at("images").get<std::int64_t>(), k = r.section.at("classes").get<std::int64_t>();
    LoadedSource l;
    auto make = [&] {
      return ImageSet{torch::randint(0, 256, {n, r.input.channels, 8, 8}, torch::kUInt8),
                      torch::arange(n, torch::kInt64).remainder(k)};
    };
    if (r.need_train) l.train = make();
    if (r.need_test) l.test = make();
    for (std::int64_t i = 0; i < k; ++i) l.class_names.push_back("c" + std::to_string(i));
    l.source_shape = {r.input.channels, 8, 8};
    return l;
  }
};
DataSourceRegistrar<SyntheticSource> registrar("synthetic");

json synthetic_doc(const json& data) {
  json doc = model_doc({{{"type", "flatten"}}, {{"type", "dense"}, {"units", 3}}}, 1, 4, 4);
  doc["data"] = data;
  return doc;
}

}  // namespace

TEST(DataSourceRegistry, ANewSourceResolvesItsKeysAndLoads) {
  TempDir dir;
  Config c = resolve_doc(synthetic_doc({{"source", "synthetic"}, {"root", dir.str()}, {"classes", 3}}));
  const json& d = c.resolved()["data"];
  EXPECT_EQ(d["images"], 20);
  EXPECT_EQ(d["classes"], 3);
  DataLoadOptions o;
  Datasets ds = load_datasets(c, o);
  EXPECT_EQ(ds.train.size(), 20);
  EXPECT_EQ(ds.train.images.size(2), 4);  // resized to the model input like any source
  EXPECT_EQ(ds.class_names, (std::vector<std::string>{"c0", "c1", "c2"}));
  EXPECT_EQ(ds.description["source"], "synthetic");
}

TEST(DataSourceRegistry, KeysOfOtherSourcesAndUnknownSourcesAreErrors) {
  std::string e = doc_error(synthetic_doc({{"source", "mnist"}, {"images", 5}}));
  EXPECT_NE(e.find("test.json:/data/images: 'images' applies only to source \"synthetic\"; this source is \"mnist\""),
            std::string::npos)
      << e;
  e = doc_error(synthetic_doc({{"source", "synthetik"}}));
  EXPECT_NE(e.find("/data/source: must be one of"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'synthetic'"), std::string::npos) << e;
}
