#!/usr/bin/env bash
# Accuracy benchmarks (long; not tests). Prints one line per run with test accuracy, epochs
# and wall time, and leaves the run directories under runs/bench-*.
#
#   scripts/bench-accuracy.sh [mnist|cifar|cifar_bn ...]     (default: all)
#
#   mnist     configs/mnist.json (seed model): 1 epoch (target >= 98.5%) and 2 epochs (>= 99.0%)
#   cifar     configs/cifar.json (seed architecture + augmentation + schedule): target > 82%
#   cifar_bn  configs/cifar_bn.json (seed stages + batch norm, < 300K params): target >= 85%
#   cifar_bn_bf16  the same with bf16 autocast (training.precision=bf16): the time-to-85% run on
#             CPUs with AVX512-BF16 (cnnkit info: "CPU bf16 yes")
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
ck="$BUILD_DIR/cnnkit"
[ -x "$ck" ] || { echo "bench-accuracy: build first (scripts/test.sh or cmake --build $BUILD_DIR)" >&2; exit 1; }
want=("$@"); [ ${#want[@]} -gt 0 ] || want=(mnist cifar cifar_bn)

run() {  # run NAME TARGET CONFIG [--set ...]
  local name=$1 target=$2 config=$3; shift 3
  local dir="runs/bench-$name"
  rm -rf "$dir"
  local t0; t0=$(date +%s.%N)
  "$ck" train --config "$config" --run-dir "$dir" --json "$@" > "$dir.jsonl" 2> "$dir.log" || true
  local t1; t1=$(date +%s.%N)
  python3 - "$name" "$target" "$dir.jsonl" "$t0" "$t1" <<'PY'
import json, sys
name, target, path, t0, t1 = sys.argv[1], float(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
lines = [json.loads(l) for l in open(path) if l.strip()]
final = [l for l in lines if l.get("event") == "final"]
if not final:
    print(f"{name:14s} FAILED (see {path[:-6]}.log)"); sys.exit(0)
f = final[-1]; epochs = [l for l in lines if l.get("event") == "epoch"]
train_s = sum(e["seconds"] for e in epochs)
hit = next((e["epoch"] for e in epochs if e["val_accuracy"] >= target), None)
print(f"{name:14s} test accuracy {100*f['test_accuracy']:.2f}% (target {100*target:.1f}%: "
      f"{'met' if f['test_accuracy'] >= target else 'NOT met'})  epochs {f['epochs']}  "
      f"training {train_s/60:.1f} min  wall {(t1-t0)/60:.1f} min  "
      f"val reached target at epoch {hit}")
PY
}

scripts/get-data.sh mnist cifar10 >&2
for w in "${want[@]}"; do
  case "$w" in
    mnist)
      run mnist-1epoch 0.985 configs/mnist.json --set training.epochs=1
      run mnist-2epochs 0.990 configs/mnist.json --set training.epochs=2 ;;
    cifar) run cifar 0.82 configs/cifar.json ;;
    cifar_bn) run cifar_bn 0.85 configs/cifar_bn.json ;;
    cifar_bn_bf16) run cifar_bn_bf16 0.85 configs/cifar_bn.json --set training.precision=bf16 ;;
    *) echo "bench-accuracy: unknown benchmark '$w'" >&2; exit 2 ;;
  esac
done
