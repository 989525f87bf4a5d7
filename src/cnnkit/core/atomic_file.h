// Atomic file writes: write to a temporary name in the same folder, flush, then rename over
// the target. A crash leaves either the old file or the new one, never half of either.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace cnnkit {

// Calls write(tmp_path) to produce the file under a temporary name, then renames it to `path`.
// On any exception the temporary file is removed and the exception propagates.
// `durable`: fsync the bytes before the rename (a crash never loses the previous version).
// Files that are cheap to regenerate in bulk (feature-map images) pass false: still never
// half-written, but without one fsync per file.
void write_atomically(const std::filesystem::path& path,
                      const std::function<void(const std::filesystem::path&)>& write, bool durable = true);
void write_text_atomically(const std::filesystem::path& path, const std::string& text);
// Reads a small text file (a config): a missing file, a directory, a FIFO, a device, a link
// loop or a file over `max_bytes` throws ConfigError "PATH: ..." (see core/input_file.h).
constexpr std::uint64_t kMaxTextFileBytes = 64ull << 20;
std::string read_text_file(const std::filesystem::path& path, const char* what,
                           std::uint64_t max_bytes = kMaxTextFileBytes);

}  // namespace cnnkit
