#include "fuzz_support.h"

#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cnnkit/core/error.h"
#include "cnnkit/io/image_io.h"
#include "cnnkit/layers/layer_registry.h"

namespace cnnkit::fuzz {
namespace fs = std::filesystem;

namespace {

std::string make_temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/cnnkit-fuzz-XXXXXX";
  if (!::mkdtemp(pattern.data())) {
    std::perror("mkdtemp");
    std::abort();
  }
  return pattern;
}

void remove_temp_dir() {
  std::error_code ec;
  fs::remove_all(temp_dir(), ec);
}

[[noreturn]] void finding(const std::string& what, const std::string& message) {
  std::fprintf(stderr, "\n==== cnnkit fuzz finding: %s\n%s\n====\n", what.c_str(), message.c_str());
  std::abort();
}

}  // namespace

const std::string& temp_dir() {
  // Never destroyed: remove_temp_dir runs from atexit, after the destructors of statics built
  // before it was registered (a static std::string here was freed before it: a use after free).
  static const std::string& dir = *[] {
    auto* d = new std::string(make_temp_dir());
    std::atexit(remove_temp_dir);
    return d;
  }();
  return dir;
}

void init() {
  spdlog::set_level(spdlog::level::off);
  torch::set_num_threads(1);
  set_model_memory_limit(256ll << 20);
  set_max_image_pixels(1 << 22);
  temp_dir();
}

std::string write_temp(const std::string& name, const std::string& bytes) {
  const std::string path = temp_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) finding("cannot write the input file", path);
  return path;
}

void expect_clean(const std::function<void()>& f, const std::string& input) {
  try {
    f();
  } catch (const cnnkit::Error& e) {
    const std::string m = e.what();
    if (m.empty()) finding("empty error message", "");
    if (m.find('\n') != std::string::npos) finding("error message of several lines", m);
    for (const char* leak : {"[json.exception", "DefaultCPUAllocator", "map::at", "Exception raised from",
                             "basic_string", "vector::", "std::bad_alloc", "stoul", "stoi", "c10::"}) {
      if (m.find(leak) != std::string::npos && input.find(leak) == std::string::npos) finding(std::string("library text in an error: ") + leak, m);
    }
  } catch (const std::exception& e) {
    finding("an exception that is not a cnnkit::Error", e.what());
  } catch (...) {
    finding("an exception that is not a std::exception", "");
  }
}

std::vector<std::string> split_input(const std::uint8_t* data, std::size_t size, std::size_t max_parts) {
  std::vector<std::string> parts(1);
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == 0 && parts.size() < max_parts) parts.emplace_back();
    else parts.back().push_back(static_cast<char>(data[i]));
  }
  return parts;
}

std::string seed_dir() {
  const char* d = std::getenv("CNNKIT_FUZZ_MAKE_SEEDS");
  return d && *d ? d : "";
}

void write_seed(const std::string& name, const std::string& bytes) {
  fs::create_directories(seed_dir());
  std::ofstream out(fs::path(seed_dir()) / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace cnnkit::fuzz
