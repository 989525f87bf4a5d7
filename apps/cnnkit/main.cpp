// cnnkit: CLI11 wiring only. Global options, one register_<cmd>() per command, and the one
// place where errors become exit codes (2 = usage/config, 1 = anything else) and one line on
// stderr, never a backtrace.
#include <c10/util/Exception.h>
#include <torch/version.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "cnnkit/core/allocator.h"
#include "cnnkit/core/error.h"
#include "cnnkit/core/logging.h"
#include "cnnkit/core/threads.h"
#include "commands/commands.h"

namespace {

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// Results that could not be written are a failure, not a success: a full disk or a closed
// file behind stdout ends with exit 1. (A closed pipe ends the process through SIGPIPE before
// this, quietly, as other Unix tools do: `cnnkit predict ... | head`.)
int finish_stdout(int code) {
  errno = 0;
  std::cout.flush();
  const bool failed = !std::cout || std::fflush(stdout) != 0 || std::ferror(stdout);
  if (!failed) return code;
  const int err = errno;
  std::cerr << "cnnkit: error: cannot write the results to standard output"
            << (err ? std::string(": ") + std::strerror(err) : std::string()) << "\n";
  return code == 0 ? 1 : code;
}

// Every command, in the order --help lists them.
const cnnkit::CommandRegistration kCommands[] = {
    cnnkit::register_summary, cnnkit::register_info, cnnkit::register_train, cnnkit::register_evaluate,
    cnnkit::register_predict, cnnkit::register_data, cnnkit::register_bench, cnnkit::register_featuremap,
    cnnkit::register_export,
};

int run(int argc, char** argv) {
  using namespace cnnkit;
  configure_allocator();  // before the first tensor: see core/allocator.h
  // Past a file-size limit (ulimit -f), writes fail with EFBIG and are reported, instead of
  // SIGXFSZ killing the process in the middle of a checkpoint.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"cnnkit: train and inspect convolutional networks described in JSON configs (LibTorch)"};
  app.set_version_flag("--version", std::string("cnnkit ") + CNNKIT_VERSION + " (LibTorch " + TORCH_VERSION + ")");
  app.require_subcommand(1);
  app.fallthrough();  // global options may come after the command too
  app.get_formatter()->column_width(34);

  GlobalOptions g;
  auto* device_opt =
      app.add_option("--device", g.device, "Compute device: auto|cpu|cuda|cuda:N (beats the config)")->capture_default_str();
  app.add_option("--threads", g.threads, "CPU threads; 0 = all physical cores")->capture_default_str();
  app.add_option("--log-level", g.log_level, "trace|debug|info|warn|error|off")->capture_default_str();
  app.add_flag("-q,--quiet", g.quiet, "Only warnings and errors on stderr; no progress");

  std::vector<Command> commands;
  for (CommandRegistration add : kCommands) commands.push_back(add(app, g));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  g.device_given = device_opt->count() > 0;
  setup_logging(g.log_level, g.quiet);
  configure_threads(g.threads);
  for (auto& c : commands)
    if (c.app->parsed()) return finish_stdout(c.run());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const cnnkit::Error& e) {
    std::cerr << "cnnkit: error: " << first_line(e.what()) << "\n";
    return e.exit_code();
  } catch (const c10::Error& e) {
    std::cerr << "cnnkit: error: " << first_line(e.what_without_backtrace()) << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "cnnkit: error: " << first_line(e.what()) << "\n";
    return 1;
  }
}
