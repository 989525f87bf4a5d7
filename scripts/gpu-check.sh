#!/usr/bin/env bash
# Builds cnnkit against a CUDA LibTorch and checks it on the GPU: train one MNIST epoch,
# evaluate, featuremap, bench, and compare evaluation on CPU and CUDA within tolerance; then
# data-parallel: one MNIST epoch on 2 processes sharing the GPU (Gloo over CUDA tensors, as NCCL
# refuses two ranks on one device) and the 1-vs-2-process bench.
#
#   scripts/gpu-check.sh --prepare        on a dev machine: copy the header-only dependencies
#                                          (CLI11, nlohmann_json, spdlog, fmt) and MNIST into .gpu/
#   scripts/gpu-check.sh [--torch PREFIX]  on the GPU machine: build and check; figures go to
#                                          stdout and to $OUT (or .gpu/out) as gpu-check.json
#
# PREFIX defaults to the LibTorch inside the installed PyTorch
# (python3 -c 'import torch; print(torch.utils.cmake_prefix_path)'). Without OpenCV's C++
# libraries the build turns image features off, and the featuremap step is reported as skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
gpu="$root/.gpu"
out=${OUT:-$gpu/out}

if [ "${1:-}" = "--prepare" ]; then
  mkdir -p "$gpu/include" "$gpu/data/mnist"
  for d in CLI nlohmann spdlog fmt; do cp -r "/usr/include/$d" "$gpu/include/"; done
  cp ../shared/data/mnist/*.gz "$gpu/data/mnist/" 2>/dev/null || scripts/get-data.sh --dest "$gpu/data" mnist
  grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
  echo "gpu-check: prepared $gpu ($(du -sh "$gpu" | cut -f1)); carry .gpu to the GPU machine" >&2
  exit 0
fi

prefix=""
if [ "${1:-}" = "--torch" ]; then prefix="$2"; fi
if [ -z "$prefix" ]; then prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)'); fi
mkdir -p "$out"
log="$out/gpu-check.log"
: > "$log"
say() { echo "gpu-check: $*" | tee -a "$log" >&2; }

opencv=ON
if ! pkg-config --exists opencv4 2>/dev/null && [ ! -d /usr/lib/x86_64-linux-gnu/cmake/opencv4 ]; then opencv=OFF; fi
third=()
if [ ! -f /usr/include/CLI/CLI.hpp ] || [ ! -f /usr/include/nlohmann/json.hpp ] || [ ! -d /usr/include/spdlog ]; then
  [ -d "$gpu/include" ] || { say "header-only dependencies missing: run scripts/gpu-check.sh --prepare and carry .gpu"; exit 1; }
  third=(-DCNNKIT_THIRD_PARTY_INCLUDE="$gpu/include")
fi
say "LibTorch: $prefix; OpenCV: $opencv (CMake picks C++17 or C++20 for this LibTorch: see build log)"
t0=$(date +%s)
cmake -S . -B build-cuda -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" -DCNNKIT_BUILD_TESTS=OFF \
  -DCNNKIT_WITH_OPENCV=$opencv "${third[@]}" >>"$log" 2>&1
cmake --build build-cuda -j "$(nproc)" >>"$log" 2>&1 || { tail -40 "$log" >&2; exit 1; }
say "built in $(( $(date +%s) - t0 )) s"
ck=build-cuda/cnnkit
data="$gpu/data/mnist"; [ -d "$data" ] || data=data/mnist
"$ck" info --json > "$out/info.json"
run="$out/run"
rm -rf "$run"
"$ck" --device cuda train --config configs/mnist.json --data-root "$data" --run-dir "$run" \
  --set training.epochs=1 --json > "$out/train.jsonl"
"$ck" --device cuda evaluate --checkpoint "$run" --data-root "$data" --json > "$out/eval-cuda.json"
"$ck" --device cpu evaluate --checkpoint "$run" --data-root "$data" --json > "$out/eval-cpu.json"
if [ "$opencv" = ON ]; then
  "$ck" --device cuda featuremap --checkpoint "$run/best.pt" --data-root "$data" --layer all --out "$out/fm" > "$out/featuremap.json"
  fm="ran"
else
  fm="skipped: built without OpenCV"
fi
# The installed layout and the run index work with this LibTorch too.
cmake --install build-cuda --prefix "$out/prefix" >>"$log" 2>&1
(cd "$out" && "$out/prefix/bin/cnnkit" summary mnist --json > "$out/installed-summary.json")
"$ck" runs "$out" --json > "$out/runs.json"
"$ck" --device cuda bench --config configs/cifar.json --no-data --json > "$out/bench-cifar-cuda.json"
"$ck" --device cuda bench --config configs/cifar.json --no-data --json --set training.precision=fp32 > "$out/bench-cifar-cuda-fp32.json"
# Data-parallel on one GPU: both ranks on cuda:0 (--nproc 2), then 1 process against 2.
"$ck" --device cuda train --config configs/mnist.json --data-root "$data" --run-dir "$out/run-nproc2" \
  --set training.epochs=1 --nproc 2 --json > "$out/train-nproc2.jsonl"
"$ck" --device cuda bench --config configs/cifar.json --nproc 2 --rounds 3 --json > "$out/bench-nproc2.json"
python3 - "$out" "$fm" <<'PY'
import json, sys
out, fm = sys.argv[1], sys.argv[2]
cuda = json.load(open(f"{out}/eval-cuda.json")); cpu = json.load(open(f"{out}/eval-cpu.json"))
lines = [json.loads(l) for l in open(f"{out}/train.jsonl") if l.strip()]
b16 = json.load(open(f"{out}/bench-cifar-cuda.json")); b32 = json.load(open(f"{out}/bench-cifar-cuda-fp32.json"))
info = json.load(open(f"{out}/info.json")); runs = json.load(open(f"{out}/runs.json"))
report = {
  "libtorch": info["libtorch_version"],
  "installed_summary_params": json.load(open(f"{out}/installed-summary.json"))["total_params"],
  "runs": [(r["name"], r["status"]) for r in runs],
  "train_epoch_seconds": lines[0]["seconds"], "train_images_per_second": lines[0]["images_per_second"],
  "test_accuracy_cuda": cuda["accuracy"], "test_accuracy_cpu": cpu["accuracy"],
  "loss_cuda": cuda["loss"], "loss_cpu": cpu["loss"], "loss_abs_diff": abs(cuda["loss"] - cpu["loss"]),
  "cpu_cuda_agree": abs(cuda["loss"] - cpu["loss"]) < 1e-3 and abs(cuda["accuracy"] - cpu["accuracy"]) < 2e-3,
  "featuremap": fm,
  "bench_cifar_bf16": {k: b16[k] for k in ("train", "inference", "matmul", "matmul_bf16") if k in b16},
  "bench_cifar_fp32": {k: b32[k] for k in ("train", "inference", "matmul") if k in b32},
}
final2 = json.load(open(f"{out}/run-nproc2/final.json"))
bench2 = json.load(open(f"{out}/bench-nproc2.json"))
report["nproc2"] = {"test_accuracy": final2["test"]["accuracy"], "distributed": final2["distributed"],
                    "bench": {k: bench2[k] for k in ("one_process", "data_parallel", "speedup", "distributed")}}
json.dump(report, open(f"{out}/gpu-check.json", "w"), indent=2)
print(json.dumps(report, indent=2))
sys.exit(0 if report["cpu_cuda_agree"] else 1)
PY
