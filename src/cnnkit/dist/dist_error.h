// Failures of distributed training that are not the user's launch line: a peer rank died or
// hangs, a collective failed, the rendezvous timed out waiting for ranks. Exit code 1.
// (Bad launch environments, an unreachable MASTER_ADDR or a busy MASTER_PORT are UsageErrors,
// exit 2.) Messages start with "rank R: " and name the operation and the peers involved.
#pragma once
#include "cnnkit/core/error.h"

namespace cnnkit::dist {

class DistributedError : public Error {
 public:
  using Error::Error;
};

}  // namespace cnnkit::dist
