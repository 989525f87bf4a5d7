// Test support for library-level tests: resolve and build configs and single layers from JSON
// written in the test, and capture the message of the ConfigError a bad document raises.
#pragma once
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "cnnkit/config/config.h"
#include "cnnkit/core/error.h"
#include "cnnkit/layers/layer_registry.h"
#include "cnnkit/model/model.h"

namespace cnnkit::test {

inline std::shared_ptr<ConfigSource> test_source(const std::string& file = "test.json") {
  auto src = std::make_shared<ConfigSource>();
  src->file = file;
  return src;
}

// A whole config document as a raw JSON object, resolved as load_config would (no overrides).
inline Config resolve_doc(const json& doc, const std::string& file = "test.json") {
  return resolve_config(doc, test_source(file));
}

// {"input": {...}, "layers": layers} with an optional global init.
inline json model_doc(const json& layers, std::int64_t c = 3, std::int64_t h = 12, std::int64_t w = 12,
                      const std::string& init = "") {
  json doc = {{"input", {{"channels", c}, {"height", h}, {"width", w}}}, {"layers", layers}};
  if (!init.empty()) doc["init"] = init;
  return doc;
}

// The same with the layers written in place: model_doc({conv, pool}) (a braced list is always
// the layer list, even with one element).
inline json model_doc(std::initializer_list<json> layers, std::int64_t c = 3, std::int64_t h = 12,
                      std::int64_t w = 12, const std::string& init = "") {
  return model_doc(json(std::vector<json>(layers)), c, h, w, init);
}

// Resolves and builds ONE config layer on `input`, as the model builder would (the layer is
// /layers/0 of test.json).
inline BuiltLayer build_one(json layer, const Shape& input, const std::string& init = "default") {
  auto src = test_source();
  json list = json::array({std::move(layer)});
  ResolveContext rctx;
  json resolved = resolve_layer_list(ConfigView(list, src, "/layers"), rctx);
  BuildContext bctx;
  bctx.init = init;
  return build_layer(ConfigView(resolved, src, "/layers").at(0), input, bctx);
}

// Runs `f`; returns the ConfigError's message, or "<no error>" / "<other: ...>".
template <typename F>
std::string config_error_of(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<other: ") + e.what() + ">";
  }
  return "<no error>";
}

// Message of resolving and building a whole document (resolution and shape inference).
inline std::string doc_error(const json& doc, const std::string& file = "test.json") {
  return config_error_of([&] { build_model(resolve_doc(doc, file)); });
}

inline torch::Tensor forward(const BuiltLayer& layer, const torch::Tensor& x) {
  torch::nn::AnyModule m = layer.module;
  return m.forward(x);
}

}  // namespace cnnkit::test
