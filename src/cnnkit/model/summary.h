// Model summary (Keras-style, plus cost): per layer name, type, output shape, parameters,
// multiply-adds; totals of parameters (trainable / non-trainable), multiply-adds and FLOPs
// (2 per multiply-add), parameter memory and activation memory per image (float32).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "cnnkit/model/model.h"

namespace cnnkit {

nlohmann::json summarize(const Model& model, const std::string& name);
// The readable table for a summary produced by summarize().
std::string format_summary(const nlohmann::json& summary);

}  // namespace cnnkit
