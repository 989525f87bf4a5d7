// Running Python from cnnkit (the ONNX export goes through PyTorch's exporter): a small process
// runner and the search for a python3 that can import torch.
//
// The interpreter is $CNNKIT_PYTHON when set (nothing else is tried then), else the first of
// `python3` on the PATH and /usr/bin/python3 (Debian's python3-torch) that has the module.
#pragma once
#include <string>
#include <vector>

namespace cnnkit {

struct ProcessResult {
  int exit_code = -1;  // 127: could not be started; 128 + N: killed by signal N
  std::string out;
  std::string err;
};

// Runs argv[0] (looked up on the PATH) with the arguments, no shell, stdin from /dev/null;
// captures stdout and stderr.
ProcessResult run_process(const std::vector<std::string>& argv);

struct PythonSearch {
  std::string python;  // the interpreter to use; empty when none has the module
  std::string tried;   // "python3 (no module torch), /usr/bin/python3 (not found)" for messages
};

// The first candidate interpreter that can import `module` (checked without importing it).
// Cached per module for the life of the process.
PythonSearch find_python_with(const std::string& module);

}  // namespace cnnkit
