// Test support for dist/: multi-process tests re-run this test binary as their workers.
//
// The trick: a test that needs N ranks starts N copies of the test binary itself
// (/proc/self/exe) with `--gtest_filter=DistWorker.<Scenario>` and an environment carrying the
// launch variables (RANK, WORLD_SIZE, MASTER_ADDR, ...) plus CNNKIT_TEST_WORKER_DIR (a scratch
// folder shared with the parent) and CNNKIT_TEST_WORKER_ARGS ("key=value;..." scenario
// parameters). DistWorker.* tests skip themselves unless CNNKIT_TEST_WORKER_DIR is set, so a
// normal test run lists them as skipped. Workers write what the parent compares (raw parameter
// bytes, error messages, stop steps) into the folder; their stdout/stderr go to
// <dir>/worker<rank>.log, which the parent prints when a check fails.
#pragma once
#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace cnnkit::test::dist {

// ---- parent side ----
std::string self_executable();
// A TCP port that was free a moment ago on 127.0.0.1.
int free_port();

struct WorkerProcess {
  int pid = -1;
  int rank = 0;
  std::string log;
};

// Starts DistWorker.<scenario> as rank `rank` of `world` with rank 0 hosting the store on
// `port` (plain env:// launch). `args` become CNNKIT_TEST_WORKER_ARGS.
WorkerProcess spawn_worker(const std::string& scenario, int rank, int world, int port, const std::string& dir,
                           const std::string& args = "", const std::vector<std::string>& extra_env = {});
// Starts `argv` (argv[0] = this binary) with `env` added and output in `log`.
int spawn_process(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& log);
// Waits up to `limit`, then SIGKILLs. Returns the exit code (128 + signal when killed).
int wait_process(int pid, std::chrono::seconds limit = std::chrono::seconds(60));
std::string read_text(const std::string& path);
bool wait_for_file(const std::string& path, std::chrono::seconds limit);

// ---- worker side ----
bool is_worker();
std::string worker_dir();
std::map<std::string, std::string> worker_args();
int arg_int(const std::string& key, int fallback);
void write_text(const std::string& path, const std::string& text);
// Runs `body`; a cnnkit::Error is written to <dir>/error<rank>.txt and ends the process with
// its exit code (gtest is bypassed so the parent sees that code).
void run_worker(int rank, const std::function<void()>& body);

// ---- shared by workers and the parent's single-process references ----
// conv(3->8) [+ batch norm] -> relu -> maxpool -> fc1(128->16) -> relu -> fc2(16->4)
// [+ extra(4->4) when use_extra]; `unused` (4->4) is never used.
struct ToyNetImpl : torch::nn::Module {
  explicit ToyNetImpl(bool batch_norm);
  torch::Tensor forward(const torch::Tensor& x, bool use_extra = false);
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr}, extra{nullptr}, unused{nullptr};
};
TORCH_MODULE(ToyNet);

struct ToyBatch {
  torch::Tensor x, y;
};
// The global batch of `step`: `n` samples of 3x8x8 and labels in [0, 4), fixed by `seed`.
ToyBatch toy_batch(int64_t seed, int64_t step, int64_t n);
// All parameters flattened into one float tensor (a rank's "checksum" is its raw bytes).
torch::Tensor flat_parameters(const torch::nn::Module& m);
torch::Tensor flat_buffers(const torch::nn::Module& m);
void write_tensor(const std::string& path, const torch::Tensor& t);  // appends raw float32 bytes
torch::Tensor read_floats(const std::string& path);

}  // namespace cnnkit::test::dist
