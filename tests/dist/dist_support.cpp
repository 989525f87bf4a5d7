#include "dist/dist_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "cnnkit/core/error.h"

extern char** environ;

namespace cnnkit::test::dist {

std::string self_executable() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string("/proc/self/exe");
}

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

int spawn_process(const std::vector<std::string>& argv_in, const std::vector<std::string>& env_in,
                  const std::string& log) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  for (const auto& kv : env_in) {
    std::string key = kv.substr(0, kv.find('=') + 1);
    env.erase(std::remove_if(env.begin(), env.end(), [&](const std::string& s) { return s.rfind(key, 0) == 0; }),
              env.end());
    env.push_back(kv);
  }
  std::vector<std::string> args = argv_in;
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = open("/dev/null", O_RDONLY);
    dup2(in, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

WorkerProcess spawn_worker(const std::string& scenario, int rank, int world, int port, const std::string& dir,
                           const std::string& args, const std::vector<std::string>& extra_env) {
  WorkerProcess w;
  w.rank = rank;
  w.log = dir + "/worker" + std::to_string(rank) + ".log";
  std::vector<std::string> env{"RANK=" + std::to_string(rank),
                               "WORLD_SIZE=" + std::to_string(world),
                               "LOCAL_RANK=" + std::to_string(rank),
                               "LOCAL_WORLD_SIZE=" + std::to_string(world),
                               "MASTER_ADDR=127.0.0.1",
                               "MASTER_PORT=" + std::to_string(port),
                               "CNNKIT_TEST_WORKER_DIR=" + dir,
                               "CNNKIT_TEST_WORKER_ARGS=" + args};
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  w.pid = spawn_process({self_executable(), "--gtest_brief=1", "--gtest_filter=DistWorker." + scenario}, env, w.log);
  return w;
}

int wait_process(int pid, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (true) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0) return -1;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool wait_for_file(const std::string& path, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (access(path.c_str(), F_OK) == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

bool is_worker() { return std::getenv("CNNKIT_TEST_WORKER_DIR") != nullptr; }

std::string worker_dir() {
  const char* d = std::getenv("CNNKIT_TEST_WORKER_DIR");
  return d ? d : "";
}

std::map<std::string, std::string> worker_args() {
  std::map<std::string, std::string> out;
  const char* a = std::getenv("CNNKIT_TEST_WORKER_ARGS");
  std::stringstream ss(a ? a : "");
  std::string item;
  while (std::getline(ss, item, ';')) {
    auto eq = item.find('=');
    if (eq != std::string::npos) out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

int arg_int(const std::string& key, int fallback) {
  auto args = worker_args();
  auto it = args.find(key);
  return it == args.end() ? fallback : std::stoi(it->second);
}

void write_text(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
  }
  std::rename(tmp.c_str(), path.c_str());  // readers never see half a file
}

void run_worker(int rank, const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    write_text(worker_dir() + "/error" + std::to_string(rank) + ".txt", e.what());
    std::fflush(nullptr);
    std::_Exit(e.exit_code());
  }
}

ToyNetImpl::ToyNetImpl(bool batch_norm) {
  conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 8, 3).padding(1)));
  if (batch_norm) bn = register_module("bn", torch::nn::BatchNorm2d(8));
  fc1 = register_module("fc1", torch::nn::Linear(128, 16));
  fc2 = register_module("fc2", torch::nn::Linear(16, 4));
  extra = register_module("extra", torch::nn::Linear(4, 4));
  unused = register_module("unused", torch::nn::Linear(4, 4));
}

torch::Tensor ToyNetImpl::forward(const torch::Tensor& x, bool use_extra) {
  auto h = conv(x);
  if (bn) h = bn(h);
  h = torch::max_pool2d(torch::relu(h), 2).flatten(1);
  h = fc2(torch::relu(fc1(h)));
  return use_extra ? h + extra(h) : h;
}

ToyBatch toy_batch(int64_t seed, int64_t step, int64_t n) {
  auto gen = at::detail::createCPUGenerator(static_cast<uint64_t>(seed * 1000 + step));
  ToyBatch b;
  b.x = at::randn({n, 3, 8, 8}, gen);
  b.y = at::randint(0, 4, {n}, gen);
  return b;
}

torch::Tensor flat_parameters(const torch::nn::Module& m) {
  std::vector<torch::Tensor> v;
  for (const auto& p : m.parameters()) v.push_back(p.detach().reshape({-1}).to(torch::kFloat));
  return torch::cat(v);
}

torch::Tensor flat_buffers(const torch::nn::Module& m) {
  std::vector<torch::Tensor> v;
  for (const auto& b : m.buffers()) v.push_back(b.detach().reshape({-1}).to(torch::kFloat));
  return v.empty() ? torch::zeros({0}) : torch::cat(v);
}

void write_tensor(const std::string& path, const torch::Tensor& t) {
  auto c = t.contiguous().to(torch::kFloat);
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out.write(reinterpret_cast<const char*>(c.data_ptr<float>()), static_cast<std::streamsize>(c.numel() * 4));
}

torch::Tensor read_floats(const std::string& path) {
  std::string bytes = read_text(path);
  auto t = torch::empty({static_cast<int64_t>(bytes.size() / 4)}, torch::kFloat);
  std::memcpy(t.data_ptr<float>(), bytes.data(), bytes.size() / 4 * 4);
  return t;
}

}  // namespace cnnkit::test::dist
