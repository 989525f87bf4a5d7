// SHA-256 (FIPS 180-4) of bytes or of a file, as 64 lowercase hex digits. Used to name the
// exact checkpoint an export came from and the files it wrote.
#pragma once
#include <filesystem>
#include <string>

namespace cnnkit {

std::string sha256_hex(const std::string& bytes);
// Throws Error naming the file when it cannot be read.
std::string sha256_file_hex(const std::filesystem::path& path);

}  // namespace cnnkit
