#!/usr/bin/env bash
# The main job, end to end on a fresh Debian 12 machine: install dependencies, build cnnkit,
# get MNIST, look at the untrained model's layer-0 feature maps, train the seed MNIST model,
# evaluate it, and look at layer 0 again (before/after side by side). A few minutes on 2 cores.
# Training uses the seed model's one-epoch recipe (configs/mnist_1epoch.json: same layers as
# configs/mnist.json) on all 60,000 training images; EPOCHS=N trains longer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)" --target cnnkit
scripts/get-data.sh mnist
cnnkit="$BUILD_DIR/cnnkit"
run=${RUN_DIR:-runs/mnist-main}
config=configs/mnist_1epoch.json
epochs=${EPOCHS:-1}

"$cnnkit" summary --config "$config"
if [ -d "$run" ]; then rm -rf "$run"; fi
# Before: layer 0 of the untrained model (seeded as training will be) on test image 0.
"$cnnkit" featuremap --config "$config" --layer 0 --filters --out "$run-featuremaps/before" > /dev/null
"$cnnkit" train --config "$config" --run-dir "$run" --set training.epochs="$epochs" --set data.validation_split=0
"$cnnkit" evaluate --checkpoint "$run" --confusion-png "$run/confusion.png"
# After, and both side by side with the same normalisation.
"$cnnkit" featuremap --checkpoint "$run" --layer 0 --filters --out "$run/featuremaps/after" > /dev/null
"$cnnkit" featuremap --compare untrained "$run" --layer 0 --out "$run/featuremaps/compare" > /dev/null
mv "$run-featuremaps/before" "$run/featuremaps/before" && rmdir "$run-featuremaps"
echo "main-job: run directory $run: metrics, curves.png, confusion.png, checkpoints," >&2
echo "main-job: featuremaps/{before,after,compare} (layer 0 of the untrained and trained model)" >&2
