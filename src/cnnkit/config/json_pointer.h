// JSON pointers (RFC 6901) as config errors write them: /layers/2/kernel_size.
#pragma once
#include <string>

namespace cnnkit {

// One key as a pointer token: "~" -> "~0", "/" -> "~1".
std::string json_pointer_token(const std::string& key);

}  // namespace cnnkit
