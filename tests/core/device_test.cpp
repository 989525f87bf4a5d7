#include <gtest/gtest.h>
#include <torch/cuda.h>

#include "cnnkit/core/device.h"
#include "cnnkit/core/error.h"
#include "support/cli.h"

using namespace cnnkit;

TEST(Device, ResolvesCpuAndAuto) {
  EXPECT_TRUE(resolve_device("cpu").is_cpu());
  EXPECT_EQ(resolve_device("auto").is_cuda(), torch::cuda::is_available());
}

TEST(Device, RejectsUnknownSpellings) {
  for (const char* bad : {"gpu", "cuda:", "cuda:x", "CPU", ""}) {
    try {
      resolve_device(bad);
      FAIL() << bad;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("expected auto, cpu, cuda"), std::string::npos) << e.what();
    }
  }
}

TEST(Device, CudaWithoutGpuIsAUsageError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a GPU is visible";
  try {
    resolve_device("cuda");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("CUDA is not available"), std::string::npos) << e.what();
  }
  auto r = test::run_cli({"--device", "cuda:0", "bench", "--config", test::config_path("mnist.json"), "--no-data"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--device cuda:0: CUDA is not available"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}
