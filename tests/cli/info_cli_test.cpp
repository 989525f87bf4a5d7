// `cnnkit info` and `cnnkit info --json` through the real binary.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "support/cli.h"

using cnnkit::test::run_cli;
using nlohmann::json;

TEST(InfoCli, Text) {
  auto r = run_cli({"info"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find(std::string("cnnkit            ") + CNNKIT_VERSION + "\n"), std::string::npos) << r.out;
  for (const char* label : {"LibTorch          1.", "CUDA available    ", "physical cores    ", "threads           ",
                            "oneDNN            ", "BLAS (loaded)     "})
    EXPECT_NE(r.out.find(label), std::string::npos) << label << "\n" << r.out;
}

TEST(InfoCli, JsonFields) {
  auto r = run_cli({"info", "--json", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  json j = json::parse(r.out);
  EXPECT_EQ(j["cnnkit_version"], CNNKIT_VERSION);
  EXPECT_EQ(j["libtorch_version"].get<std::string>().rfind("1.", 0), 0u);
  for (const char* key : {"opencv", "cuda_compiled", "cuda_available", "cudnn_available", "cpu_bf16", "onednn", "openmp"})
    EXPECT_TRUE(j[key].is_boolean()) << key;
  EXPECT_TRUE(j["gpus"].is_array());
  EXPECT_TRUE(j["blas_loaded"].is_array());
  EXPECT_TRUE(j["cpu"].is_string());
  EXPECT_TRUE(j["cpu_capability"].is_string());
  EXPECT_TRUE(j["blas_build"].is_string());
  EXPECT_GE(j["physical_cores"].get<int>(), 1);
  EXPECT_EQ(j["intra_op_threads"].get<int>(), 1);  // --threads 1
  EXPECT_GE(j["inter_op_threads"].get<int>(), 1);
  if (!j["cuda_available"].get<bool>()) {
    EXPECT_TRUE(j["gpus"].empty());
  }
}

// The glibc heap tuning (core/allocator.h) is on by default and steps aside when the user
// steers malloc themselves.
TEST(InfoCli, HostAllocatorTuningAndOptOuts) {
  bool parent_steers = std::getenv("GLIBC_TUNABLES") || std::getenv("CNNKIT_MALLOC");
  for (const char* v : {"MALLOC_ARENA_MAX", "MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_",
                        "MALLOC_TOP_PAD_", "MALLOC_CHECK_", "MALLOC_PERTURB_"})
    parent_steers = parent_steers || std::getenv(v);
  auto allocator = [](const std::vector<std::string>& env) {
    auto r = run_cli({"info", "--json"}, "", env);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out)["host_allocator"].get<std::string>();
  };
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)  // ASan's malloc refuses glibc's mallopt
  if (!parent_steers) EXPECT_EQ(allocator({}), "resident-heap");
#endif
  EXPECT_EQ(allocator({"CNNKIT_MALLOC=system"}), "system");
  EXPECT_EQ(allocator({"MALLOC_ARENA_MAX=2"}), "system");
  EXPECT_EQ(allocator({"GLIBC_TUNABLES=glibc.malloc.trim_threshold=1000000"}), "system");
}
