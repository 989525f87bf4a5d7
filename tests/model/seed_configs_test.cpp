#include <gtest/gtest.h>

#include "cnnkit/config/config.h"
#include "cnnkit/model/model.h"

using namespace cnnkit;

TEST(SeedConfigs, MnistShapesAndParams) {
  Config c = load_config(std::string(CNNKIT_SOURCE_DIR) + "/configs/mnist.json");
  Model m = build_model(c);
  std::vector<std::string> shapes;
  for (auto& l : m.layers) shapes.push_back(l.output.str());
  EXPECT_EQ(shapes, (std::vector<std::string>{"28×28×32", "14×14×32", "14×14×32", "14×14×64", "7×7×64", "7×7×64",
                                              "7×7×128", "4×4×128", "4×4×128", "2048", "10"}));
  EXPECT_EQ(count_parameters(*m.net).total(), 113162);
}
