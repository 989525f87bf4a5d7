// The keys Adam and AdamW share: betas [beta1, beta2] and eps.
#pragma once
#include "cnnkit/config/config_view.h"

namespace cnnkit {

inline json resolve_adam_keys(const ConfigView& v) {
  json out = {{"betas", {0.9, 0.999}}, {"eps", 1e-8}};
  if (auto x = v.find("betas")) {
    auto b = x->as_double_list(2);
    for (std::size_t i = 0; i < 2; ++i) x->at(i).as_double_in(0.0, 1.0, true, false);
    out["betas"] = {b[0], b[1]};
  }
  if (auto x = v.find("eps")) out["eps"] = x->as_double_in(0.0, 1.0, false, true);
  return out;
}

inline std::tuple<double, double> adam_betas(const json& r) {
  return {r.at("betas").at(0).get<double>(), r.at("betas").at(1).get<double>()};
}

}  // namespace cnnkit
