// Registries refuse duplicates and name the known members for an unknown one.
#include <gtest/gtest.h>

#include "cnnkit/config/config.h"
#include "cnnkit/core/registry.h"
#include "cnnkit/data/source.h"
#include "cnnkit/layers/layer_registry.h"
#include "cnnkit/train/observer.h"
#include "cnnkit/train/optimizer.h"
#include "cnnkit/train/schedule.h"

using namespace cnnkit;

namespace {
struct Thing {
  int n = 0;
};
}  // namespace

TEST(Registry, RefusesDuplicatesAndListsKnownNames) {
  Registry<Thing> r("thing");
  r.add("alpha", std::make_unique<Thing>());
  r.add("beta", std::make_unique<Thing>());
  EXPECT_THROW(r.add("alpha", std::make_unique<Thing>()), std::logic_error);
  EXPECT_THROW(r.add("", std::make_unique<Thing>()), std::logic_error);
  EXPECT_EQ(r.names(), (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_NE(r.find("beta"), nullptr);
  EXPECT_EQ(r.find("gamma"), nullptr);
  try {
    r.get("alpah");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "unknown thing 'alpah' (did you mean 'alpha'?); known: alpha, beta");
  }
}

TEST(Registry, TheProgramsRegistriesRefuseDuplicates) {
  const LayerType* conv = LayerRegistry::instance().find("conv2d");
  ASSERT_NE(conv, nullptr);
  struct Dup : LayerType {
    std::string type() const override { return "conv2d"; }
    std::string doc() const override { return ""; }
    std::vector<std::string> keys() const override { return {}; }
    json example() const override { return json::object(); }
    json resolve(const ConfigView&, ResolveContext&) const override { return json::object(); }
    BuiltLayer build(const ConfigView&, const Shape&, const BuildContext&) const override { return {}; }
  };
  EXPECT_THROW(LayerRegistry::instance().add(std::make_unique<Dup>()), std::logic_error);
  EXPECT_EQ(LayerRegistry::instance().find("conv2d"), conv);  // the first stays
  EXPECT_THROW(register_config_section("training", 99, nullptr), std::logic_error);
  EXPECT_THROW(optimizer_registry().add("sgd", nullptr), std::logic_error);
  EXPECT_THROW(schedule_registry().add("cosine", nullptr), std::logic_error);
  EXPECT_THROW(data_source_registry().add("mnist", nullptr), std::logic_error);
  EXPECT_THROW(observer_registry().add("checkpoints", nullptr), std::logic_error);
}

TEST(Registry, ObserversAndSourcesAreRegistered) {
  for (const char* name : {"checkpoints", "run_files", "progress", "early_stopping", "reduce_on_plateau", "curves"})
    EXPECT_NE(observer_registry().find(name), nullptr) << name;
  for (const char* name : {"mnist", "cifar10", "cifar100", "folder"})
    EXPECT_NE(data_source_registry().find(name), nullptr) << name;
}
