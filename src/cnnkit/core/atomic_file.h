// Atomic file writes: write to a temporary name in the same folder, then rename over the
// target. A crash, a full disk, a file-size limit or an I/O error leaves either the old file or
// the new one, never half of either; the previous version of the file stays until the new one
// is complete. Every write, fsync and close is checked; a second Ctrl-C waits for the rename.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace cnnkit {

// Writes `bytes` to `path` atomically. `durable`: fsync the file before the rename and the
// folder after it, so a power cut never loses the previous version either. Files that are
// cheap to regenerate in bulk (feature-map images) pass false: still never half-written.
// Throws Error "PATH: cannot write: REASON (the previous version is kept)" on any failure.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes, bool durable = true);
// For files another program writes (e.g. a Python exporter): `write(tmp)` produces the file
// under a temporary name in the same folder, which is then fsynced and renamed over `path`.
// On any exception the temporary file is removed and the exception propagates.
void write_atomically(const std::filesystem::path& path, const std::function<void(const std::filesystem::path&)>& write,
                      bool durable = true);
inline void write_text_atomically(const std::filesystem::path& path, std::string_view text) {
  write_file_atomically(path, text, true);
}
// Reads a small text file (a config): a missing file, a directory, a FIFO, a device, a link
// loop or a file over `max_bytes` throws ConfigError "PATH: ..." (see core/input_file.h).
constexpr std::uint64_t kMaxTextFileBytes = 64ull << 20;
std::string read_text_file(const std::filesystem::path& path, const char* what,
                           std::uint64_t max_bytes = kMaxTextFileBytes);

}  // namespace cnnkit
