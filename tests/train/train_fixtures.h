// Shared by the training CLI tests: a small CNN on a real MNIST subset, and JSON Lines parsing.
#pragma once
#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "support/cli.h"

namespace cnnkit::test {

inline bool have_mnist() { return std::filesystem::exists(shared_data() / "mnist" / "train-images-idx3-ubyte.gz"); }

// A small CNN on a `limit_train`-image MNIST subset (500 test images): a few seconds per epoch
// on 2 cores. `training` is the training section as JSON text.
inline std::string small_config(const TempDir& dir, const std::string& training, int limit_train = 2000) {
  using nlohmann::json;
  json c = {{"name", "tiny"},
            {"input", {{"channels", 1}, {"height", 28}, {"width", 28}}},
            {"init", "he"},
            {"data",
             {{"source", "mnist"},
              {"root", (shared_data() / "mnist").string()},
              {"limit_train", limit_train},
              {"limit_test", 500}}},
            {"layers",
             json::array(
                 {{{"type", "conv2d"}, {"filters", 8}, {"kernel_size", 3}, {"padding", "same"}, {"activation", "relu"}},
                  {{"type", "maxpool2d"}, {"pool_size", 2}},
                  {{"type", "dropout"}, {"rate", 0.1}},
                  {{"type", "flatten"}},
                  {{"type", "dense"}, {"units", 10}}})},
            {"training", json::parse(training)}};
  return dir.write("tiny.json", c.dump(2));
}

}  // namespace cnnkit::test
