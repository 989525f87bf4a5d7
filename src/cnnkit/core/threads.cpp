#include "cnnkit/core/threads.h"

#include <torch/torch.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "cnnkit/core/error.h"

namespace cnnkit {

int physical_core_count() {
  std::ifstream in("/proc/cpuinfo");
  std::set<std::pair<std::string, std::string>> cores;
  std::string line, physical = "0";
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, line.find_last_not_of(" \t", colon - 1) + 1);
    std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "physical id") physical = value;
    if (key == "core id") cores.insert({physical, value});
  }
  int logical = static_cast<int>(std::thread::hardware_concurrency());
  int n = cores.empty() ? logical : static_cast<int>(cores.size());
  return n > 0 ? n : 1;
}

void configure_threads(int n, int processes_per_machine) {
  if (n > 1024) throw UsageError("--threads " + std::to_string(n) + ": expected 1 to 1024, or 0 for all cores");
  if (n <= 0) n = std::max(1, physical_core_count() / std::max(1, processes_per_machine));
  torch::set_num_threads(n);
}

}  // namespace cnnkit
