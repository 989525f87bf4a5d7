// The config's "evaluation" section (docs/training.md): how the end-of-training test and
// `cnnkit evaluate` look at each test image.
//
//   "evaluation": {"tta": "none" | "flip" | "flip_translate" | {"flip": true, "translate": 2}}
//
// tta (test-time augmentation) averages the model's logits over several views of each image:
// with flip, m(x) = (f(x) + f(mirror(x))) / 2, else m(x) = f(x); with translate t > 0 the logits
// are 0.5·m(x) + 0.25·m(shift(x, −t, −t)) + 0.25·m(shift(x, +t, +t)) (shifts with reflect
// padding, airbench's "level 2" for t = 1). "flip_translate" is flip with translate 1. Views:
// (flip ? 2 : 1) · (translate ? 3 : 1). The plain figure is always reported beside it.
// The section is optional: absent, the resolved config leaves it out and TTA is off.
#pragma once
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "cnnkit/config/config.h"

namespace cnnkit {

struct TtaOptions {
  bool flip = false;
  std::int64_t translate = 0;  // pixels; 0 = none
  bool enabled() const { return flip || translate > 0; }
  int views() const { return (flip ? 2 : 1) * (translate > 0 ? 3 : 1); }
  std::string describe() const;  // "flip + translate 1 px (6 views)", "none"
  nlohmann::json to_json() const;  // {"flip", "translate"}
};

// The TTA a resolved config asks for (off when it has no evaluation section).
TtaOptions tta_options_from(const Config& config);
// Parses a TTA value as the section does ("none", "flip", "flip_translate" or an object), for
// command-line options; `where` names it in errors.
TtaOptions parse_tta(const ConfigView& value);

}  // namespace cnnkit
