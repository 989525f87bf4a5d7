// The model's config sections: "input" {channels, height, width}, "init" (weight
// initialisation for conv/dense layers without their own) and "layers".
#include "cnnkit/config/config.h"
#include "cnnkit/layers/layer_registry.h"
#include "cnnkit/layers/layer_util.h"

namespace cnnkit {
namespace {

json resolve_input(const std::optional<ConfigView>& v, const ConfigView& root) {
  if (!v) root.at("input");  // "missing required field 'input'"
  v->check_keys({"channels", "height", "width"});
  return {{"channels", v->at("channels").as_int(1, 4096)},
          {"height", v->at("height").as_int(1, 1 << 15)},
          {"width", v->at("width").as_int(1, 1 << 15)}};
}

json resolve_init(const std::optional<ConfigView>& v, const ConfigView&) {
  return v ? v->as_choice(init_names()) : "default";
}

json resolve_layers(const std::optional<ConfigView>& v, const ConfigView& root) {
  if (!v) root.at("layers");
  ResolveContext ctx;
  return resolve_layer_list(*v, ctx);
}

struct ModelSections {
  ModelSections() {
    register_config_section("input", 10, resolve_input);
    register_config_section("init", 11, resolve_init);
    register_config_section("layers", 12, resolve_layers);
  }
};
static ModelSections sections;

}  // namespace
}  // namespace cnnkit
