// Literals for generated Python and TorchScript source (both use Python's syntax): floats that
// read back as the same double, quoted strings, int lists and tuples.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "cnnkit/export/module_tree.h"

namespace cnnkit {

// The shortest text that reads back as `v`, always as a float: 0.1, 1.0, 1e-05,
// float("-inf").
std::string float_literal(double v);
// A double-quoted string literal (JSON escaping, which Python and TorchScript read).
std::string string_literal(const std::string& s);
std::string int_list(const std::vector<std::int64_t>& v);    // [1, 2]
std::string pair_list(const IntPair& p);                     // [1, 2]
std::string pair_tuple(const IntPair& p);                    // (1, 2)
std::string float_list(const std::vector<double>& v);        // [0.5, 0.25]
std::string string_list(const std::vector<std::string>& v);  // ["cat", "dog"]

}  // namespace cnnkit
