// Resolves the user's --device choice into one torch::Device used for every tensor and module.
#pragma once
#include <string>

#include <c10/core/Device.h>

namespace cnnkit {

// "auto" -> CUDA when a GPU is visible, else CPU; "cpu"; "cuda"; "cuda:N".
// Throws UsageError (exit 2) for an unknown spelling, for CUDA in a build without CUDA,
// or for a GPU index that does not exist.
c10::Device resolve_device(const std::string& spec);

}  // namespace cnnkit
