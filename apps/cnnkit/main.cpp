// cnnkit: CLI11 wiring only. Global options, one register_<cmd>() per command, and the one
// place where errors become exit codes (2 = usage/config, 1 = anything else, 130 interrupted)
// and one line on stderr ("cnnkit: error: ...", or "cnnkit: interrupted ..."), never a
// backtrace. Argument-parser errors are one line too, naming the --help to read.
#include <c10/util/Exception.h>
#include <torch/version.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <iostream>
#include <regex>

#include "cnnkit/core/allocator.h"
#include "cnnkit/core/error.h"
#include "cnnkit/core/logging.h"
#include "cnnkit/core/strings.h"
#include "cnnkit/core/threads.h"
#include "cnnkit/core/terminal.h"
#include "command_check.h"
#include "commands/commands.h"

namespace {

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// "cnnkit: error: MESSAGE" on stderr, "error" in red when stderr takes colour; ASCII when the
// locale is not UTF-8.
void print_error(const std::string& message) {
  const bool color = cnnkit::stderr_color();
  std::cerr << "cnnkit: " << (color ? "\033[1;31merror:\033[0m " : "error: ")
            << cnnkit::for_terminal(first_line(message)) << "\n";
}

// CLI11's messages start with a capital ("The following argument was not expected: --x");
// ours do not.
std::string lower_first(std::string s) {
  if (s.size() > 1 && std::isupper(static_cast<unsigned char>(s[0])) && std::islower(static_cast<unsigned char>(s[1])))
    s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

// Results that could not be written are a failure, not a success: a full disk or a closed
// file behind stdout ends with exit 1. (A closed pipe ends the process through SIGPIPE before
// this, quietly, as other Unix tools do: `cnnkit predict ... | head`.)
int finish_stdout(int code) {
  errno = 0;
  std::cout.flush();
  const bool failed = !std::cout || std::fflush(stdout) != 0 || std::ferror(stdout);
  if (!failed) return code;
  const int err = errno;
  print_error(std::string("cannot write the results to standard output") +
              (err ? std::string(": ") + std::strerror(err) : std::string()));
  return code == 0 ? 1 : code;
}

// CLI11's wording made plain: "--threads many: expected a number" for "Could not convert:
// --threads = many", "--config needs a value" for "--config: 1 required TEXT missing".
std::string plain_parse_error(const std::string& message) {
  std::smatch m;
  if (std::regex_match(message, m, std::regex(R"(Could not convert: (\S+) = (.*))")))
    return m[1].str() + " " + m[2].str() + ": expected a number";
  if (std::regex_match(message, m, std::regex(R"((\S+): \d+ required \S+ missing)"))) return m[1].str() + " needs a value";
  if (std::regex_match(message, m, std::regex(R"((\S+): Value (\S+) not in range (\S+) to (\S+))"))) {
    const double lo = std::atof(m[3].str().c_str()), hi = std::atof(m[4].str().c_str());
    if (lo == 0 && hi > 1e300) return m[1].str() + " " + m[2].str() + ": expected a positive number";
    return m[1].str() + " " + m[2].str() + ": expected a value from " + cnnkit::trim(m[3].str()) + " to " + m[4].str();
  }
  return lower_first(message);
}

// Every command, in the order --help lists them.
const cnnkit::CommandRegistration kCommands[] = {
    cnnkit::register_summary, cnnkit::register_info, cnnkit::register_train,   cnnkit::register_evaluate,
    cnnkit::register_predict, cnnkit::register_data, cnnkit::register_bench,   cnnkit::register_featuremap,
    cnnkit::register_export,  cnnkit::register_runs, cnnkit::register_configs, cnnkit::register_completion,
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
  g.argv.assign(argv, argv + argc);
  auto* device_opt =
      app.add_option("--device", g.device, "Compute device: auto|cpu|cuda|cuda:N (beats the config)")->capture_default_str();
  app.add_option("--threads", g.threads, "CPU threads; 0 = all physical cores (divided among data-parallel processes)")->capture_default_str();
  app.add_option("--log-level", g.log_level, "trace|debug|info|warn|error|off")->capture_default_str();
  app.add_flag("-q,--quiet", g.quiet, "Only warnings and errors on stderr; no progress");
  std::string color = "auto";
  app.add_option("--color", color, "Colour on stderr: auto (a terminal, unless NO_COLOR is set)|always|never")
      ->capture_default_str();

  std::vector<Command> commands;
  for (CommandRegistration add : kCommands) commands.push_back(add(app, g));

  check_command_name(app, argc, argv);  // "unknown command 'trian' (did you mean 'train'?)"
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    if (color == "always" || color == "never") set_color_mode(parse_color_mode(color));
    std::string help = "cnnkit --help";
    for (const CLI::App* sub : app.get_subcommands()) help = "cnnkit " + sub->get_name() + " --help";
    std::string message = first_line(e.what());
    if (message == "A subcommand is required") {
      std::vector<std::string> names;
      for (const auto& c : commands) names.push_back(c.app->get_name());
      message = "a command is required: " + join(names, ", ");
    }
    print_error(plain_parse_error(message) + " (see " + help + ")");
    return 2;
  }
  g.device_given = device_opt->count() > 0;
  set_color_mode(parse_color_mode(color));
  setup_logging(g.log_level, g.quiet);
  configure_threads(g.threads);
  for (auto& c : commands)
    if (c.app->parsed()) return finish_stdout(c.run());
  return 2;
}

}  // namespace

// Data-parallel ranks other than 0 name themselves (DistributedError messages already do),
// and leave the report of an interrupt (exit 130) to rank 0.
int report(const std::string& message, int code) {
  const int rank = cnnkit::log_rank();
  if (rank > 0 && code == 130) return code;
  const std::string me = "rank " + std::to_string(rank) + ": ";
  const bool named = rank == 0 || message.rfind(me, 0) == 0;
  print_error((named ? "" : me) + message);
  return code;
}

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const cnnkit::InterruptedError& e) {
    // Not a failure of cnnkit: say what happened and how to continue (rank 0 says it for all).
    if (cnnkit::log_rank() > 0) return e.exit_code();
    std::cerr << "cnnkit: " << cnnkit::for_terminal(first_line(e.what())) << "\n";
    return e.exit_code();
  } catch (const cnnkit::Error& e) {
    return report(e.what(), e.exit_code());
  } catch (const c10::Error& e) {
    return report(e.what_without_backtrace(), 1);
  } catch (const std::exception& e) {
    return report(e.what(), 1);
  }
}
