// Where a running cnnkit finds the files installed with it (<prefix>/share/cnnkit: the shipped
// configs). Found relative to the executable, so a copy installed under any prefix
// (`cmake --install build --prefix P`, the .deb under /usr) finds its own files, and a binary
// in a build tree finds none.
#pragma once
#include <filesystem>
#include <string>

namespace cnnkit {

// The running executable (/proc/self/exe); empty when it cannot be read.
std::filesystem::path executable_path();

// <folder of the executable>/<relative_data_dir()>, normalised, e.g. /usr/share/cnnkit.
// It may not exist (a binary in a build tree).
std::filesystem::path installed_data_dir();

// The data folder relative to the executable's folder, fixed when cnnkit is configured
// (CMake: CNNKIT_RELATIVE_DATADIR, "../share/cnnkit" for the usual bin/ and share/).
const char* relative_data_dir();

}  // namespace cnnkit
