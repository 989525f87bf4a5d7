#!/usr/bin/env bash
# Regenerates the pictures of docs/tutorial.md (docs/images/*.png) by running the tutorial's own
# commands, so the pictures never go stale. Needs a build (build/cnnkit, or $CNNKIT) and the data
# (scripts/get-data.sh mnist cifar10). Takes a few minutes: it trains the MNIST model (2 epochs on
# 6,000 images) and a short CIFAR-10 run (2 epochs on 5,000 images).
#
#   scripts/make-tutorial-images.sh            # everything
#   scripts/make-tutorial-images.sh mnist      # only the MNIST part
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${CNNKIT:-$root/build/cnnkit}"
[ -x "$bin" ] || { echo "make-tutorial-images: $bin not found; build first (or set CNNKIT)" >&2; exit 1; }
parts=("${@:-mnist cifar}")
parts=(${parts[*]})
out="$root/docs/images"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
ln -s "$root/configs" configs
ln -s "$root/data" data
cnnkit() { "$bin" "$@"; }
say() { echo "make-tutorial-images: $*" >&2; }

for part in "${parts[@]}"; do
  case "$part" in
  mnist)
    [ -d data/mnist ] || { say "data/mnist missing: scripts/get-data.sh mnist"; exit 1; }
    say "MNIST: data, feature maps before training, training, evaluation, feature maps after"
    cnnkit data -c configs/mnist.json --preview 32 --out mnist-preview.png
    cnnkit featuremap --config configs/mnist.json --layer 0 --index 0 --scale 3 --out before > /dev/null
    cnnkit train --config configs/mnist.json --run-dir runs/mnist --set data.limit_train=6000
    cnnkit evaluate --checkpoint runs/mnist --confusion-png mnist-confusion.png --normalize > /dev/null
    cnnkit featuremap --compare untrained runs/mnist --layer 0,10 --index 0 --filters --scale 3 --out after > /dev/null
    cp mnist-preview.png "$out/mnist-preview.png"
    cp before/0_conv2d/grid.png "$out/mnist-layer0-before.png"
    cp runs/mnist/curves.png "$out/mnist-curves.png"
    cp mnist-confusion.png "$out/mnist-confusion.png"
    cp after/0_conv2d/compare.png "$out/mnist-layer0-compare.png"
    cp after/0_conv2d/filters.png "$out/mnist-layer0-filters.png"
    cp after/10_dense/compare.png "$out/mnist-output-compare.png"
    ;;
  cifar)
    [ -d data/cifar10 ] || { say "data/cifar10 missing: scripts/get-data.sh cifar10"; exit 1; }
    say "CIFAR-10: data, a short training run, evaluation, first-layer filters and feature maps"
    cnnkit data -c configs/cifar_bn.json --preview 40 --out cifar-preview.png
    cnnkit train --config configs/cifar_bn.json --run-dir runs/cifar --set training.epochs=2 --set data.limit_train=5000
    cnnkit evaluate --checkpoint runs/cifar --confusion-png cifar-confusion.png --normalize > /dev/null
    cnnkit featuremap --compare untrained runs/cifar --layer 0 --index 3 --filters --scale 3 --out cifar > /dev/null
    cp cifar-preview.png "$out/cifar-preview.png"
    cp runs/cifar/curves.png "$out/cifar-curves.png"
    cp cifar-confusion.png "$out/cifar-confusion.png"
    cp cifar/0_conv2d/filters.png "$out/cifar-layer0-filters.png"
    cp cifar/0_conv2d/compare.png "$out/cifar-layer0-compare.png"
    ;;
  *) say "unknown part '$part' (mnist, cifar)"; exit 2 ;;
  esac
done
say "pictures written to $out"
ls -l "$out" >&2
