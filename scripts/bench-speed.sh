#!/usr/bin/env bash
# Speed benchmark (not a test): the seed CIFAR-10 model at batch 128, fp32 and bf16, against
# this machine's matmul throughput measured in the same run; per-layer profile; data pipeline.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
ck="$BUILD_DIR/cnnkit"
rounds=${ROUNDS:-5}
[ -d data/cifar10 ] || scripts/get-data.sh cifar10 >&2
for precision in fp32 bf16; do
  echo "== configs/cifar.json, precision $precision, channels-last"
  "$ck" bench --config configs/cifar.json --batch-size 128 --rounds "$rounds" --set training.precision=$precision --layers
  echo
done
echo "== configs/cifar.json, fp32, contiguous (NCHW) weights and inputs"
"$ck" bench --config configs/cifar.json --batch-size 128 --rounds "$rounds" --set training.precision=fp32 \
  --set training.channels_last=false --no-data
