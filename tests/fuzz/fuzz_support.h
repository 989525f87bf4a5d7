// Shared by the libFuzzer targets: a quiet process, inputs written to a private temporary
// folder (the readers take paths), and the one rule every target checks: bad input ends in a
// cnnkit::Error whose message is one clean line, never in another exception.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace cnnkit::fuzz {

// Logging off, one intra-op thread, and the memory limits lowered so that a legal but large
// input costs milliseconds, not seconds (findings are about sizes the limits do not catch).
void init();

// Writes `bytes` to NAME in the process's temporary folder and returns the path.
std::string write_temp(const std::string& name, const std::string& bytes);
// The temporary folder itself.
const std::string& temp_dir();

// Runs `f`. A cnnkit::Error is the expected answer to bad input; its message must be one line
// that does not leak library text ("[json.exception", "DefaultCPUAllocator", "map::at", a
// LibTorch backtrace...). Anything else prints what happened and aborts: a finding.
// `input`: the bytes the target read; a marker that occurs in them may be the message quoting
// the input (a malformed-JSON message shows the text it stopped at) and is not a finding.
void expect_clean(const std::function<void()>& f, const std::string& input = {});

// The input split at NUL bytes (at most `max_parts` parts; the last takes the rest).
std::vector<std::string> split_input(const std::uint8_t* data, std::size_t size, std::size_t max_parts);

// When $CNNKIT_FUZZ_MAKE_SEEDS names a folder, returns it (targets then write their generated
// seeds there and exit); "" otherwise.
std::string seed_dir();
void write_seed(const std::string& name, const std::string& bytes);

}  // namespace cnnkit::fuzz
