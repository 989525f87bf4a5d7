// avgpool2d: average over pool_size windows (Keras AvgPooling2D). Output: "valid"
// floor((in - pool)/stride) + 1, "same" ceil(in/stride). See pool2d.h.
#include "cnnkit/layers/pool2d.h"

namespace cnnkit {
namespace {

struct AvgPool2dLayer : Pool2dLayer {
  AvgPool2dLayer() : Pool2dLayer(PoolKind::kAvg, "avgpool2d", "average") {}
};
CNNKIT_REGISTER_LAYER(AvgPool2dLayer);

}  // namespace
}  // namespace cnnkit
