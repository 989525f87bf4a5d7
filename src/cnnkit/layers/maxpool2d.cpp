// maxpool2d: maximum over pool_size windows (Keras MaxPooling2D). Output: "valid"
// floor((in - pool)/stride) + 1, "same" ceil(in/stride). See pool2d.h.
#include "cnnkit/layers/pool2d.h"

namespace cnnkit {
namespace {

struct MaxPool2dLayer : Pool2dLayer {
  MaxPool2dLayer() : Pool2dLayer(PoolKind::kMax, "maxpool2d", "maximum") {}
};
CNNKIT_REGISTER_LAYER(MaxPool2dLayer);

}  // namespace
}  // namespace cnnkit
