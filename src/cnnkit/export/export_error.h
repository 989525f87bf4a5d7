// The error of every exporter: a model, a path or a tool that keeps an export from being
// written (exit 1). Bad command-line values are UsageErrors (exit 2).
#pragma once
#include "cnnkit/core/error.h"

namespace cnnkit {

class ExportError : public Error {
 public:
  using Error::Error;
};

}  // namespace cnnkit
