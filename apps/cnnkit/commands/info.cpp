// cnnkit info [--json]: build and runtime facts.
#include <iostream>

#include "cnnkit/core/runtime_info.h"
#include "cnnkit/core/strings.h"
#include "commands/commands.h"

namespace cnnkit {

Command register_info(CLI::App& app, const GlobalOptions&) {
  auto json_out = std::make_shared<bool>(false);
  auto* sub = app.add_subcommand("info", "Show versions, CUDA/GPUs, threads, oneDNN and the BLAS in use");
  sub->add_flag("--json", *json_out, "Print one JSON document on stdout");
  return {sub, [json_out]() {
            auto j = runtime_info();
            if (*json_out) {
              std::cout << j.dump(2) << "\n";
              return 0;
            }
            auto yes = [](bool b) { return b ? "yes" : "no"; };
            std::vector<std::string> gpus;
            for (const auto& g : j["gpus"])
              gpus.push_back("cuda:" + std::to_string(g["index"].get<int>()) +
                             (g.contains("name") ? " " + g["name"].get<std::string>() : ""));
            std::vector<std::string> blas;
            for (const auto& b : j["blas_loaded"]) blas.push_back(b.get<std::string>());
            std::cout << "cnnkit            " << j["cnnkit_version"].get<std::string>() << "\n"
                      << "LibTorch          " << j["libtorch_version"].get<std::string>() << "\n"
                      << "OpenCV            " << yes(j["opencv"]) << "\n"
                      << "CUDA compiled in  " << yes(j["cuda_compiled"]) << "\n"
                      << "CUDA available    " << yes(j["cuda_available"]) << "\n"
                      << "cuDNN             " << yes(j["cudnn_available"]) << "\n"
                      << "GPUs              " << (gpus.empty() ? "none" : join(gpus, ", ")) << "\n"
                      << "CPU               " << j["cpu"].get<std::string>() << "\n"
                      << "physical cores    " << j["physical_cores"].get<int>() << "\n"
                      << "threads           " << j["intra_op_threads"].get<int>() << " intra-op, "
                      << j["inter_op_threads"].get<int>() << " inter-op\n"
                      << "CPU capability    " << j["cpu_capability"].get<std::string>() << "\n"
                      << "CPU bf16          " << yes(j["cpu_bf16"]) << "\n"
                      << "oneDNN            " << yes(j["onednn"]) << "\n"
                      << "OpenMP            " << yes(j["openmp"]) << "\n"
                      << "BLAS (build)      " << j["blas_build"].get<std::string>() << "\n"
                      << "BLAS (loaded)     " << (blas.empty() ? "none found" : join(blas, ", ")) << "\n"
                      << "host allocator    " << j["host_allocator"].get<std::string>() << "\n";
            return 0;
          }};
}

}  // namespace cnnkit
