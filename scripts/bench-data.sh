#!/usr/bin/env bash
# Data benchmarks (not a test): load times of full MNIST from .gz, full CIFAR-10 binary and the
# 60,000-image CIFAR-10 JPEG folder, and the batch pipeline (gather + float + normalise +
# augment) against a training step of the seed CIFAR and MNIST models.
#
#   scripts/bench-data.sh [RUNS]      (default 3 runs per load; medians are what to quote)
#
# Needs data/ from scripts/get-data.sh (run here when missing) and a built build/cnnkit
# (BUILD_DIR overrides the folder).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
cnnkit="${BUILD_DIR:-build}/cnnkit"
[ -x "$cnnkit" ] || { echo "bench-data: $cnnkit not built" >&2; exit 1; }
[ -d data/mnist ] && [ -d data/cifar10 ] && [ -d data/cifar10-jpg ] || scripts/get-data.sh mnist cifar10
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

config() {  # config NAME CHANNELS SIZE DATA_JSON
  cat > "$tmp/$1.json" <<JSON
{"input": {"channels": $2, "height": $3, "width": $3}, "layers": [{"type": "flatten"}, {"type": "dense", "units": 10}],
 "data": $4}
JSON
  echo "$tmp/$1.json"
}
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

bench_load() {  # bench_load LABEL CONFIG
  local label="$1" cfg="$2" times=()
  for _ in $(seq "$runs"); do
    local start end load
    start=$(date +%s.%N)
    load=$("$cnnkit" -q data -c "$cfg" --json | field 'round(d["load_seconds"], 3)')
    end=$(date +%s.%N)
    times+=("$load s (process $(python3 -c "print(round($end - $start, 2))") s)")
  done
  printf '%-34s %s\n' "$label" "$(IFS='; '; echo "${times[*]}")"
}

echo "threads: $(nproc) CPUs; $("$cnnkit" info | grep -E '^threads' | sed 's/  */ /g')"
echo "== load times (load_seconds from cnnkit data --json, and the whole process) =="
bench_load "MNIST (4 .gz files, 70,000)" "$(config mnist 1 28 '{"source": "mnist", "root": "data/mnist"}')"
bench_load "CIFAR-10 binary (60,000)" "$(config cifar 3 32 '{"source": "cifar10", "root": "data/cifar10"}')"
bench_load "CIFAR-10 JPEG folder (60,000)" "$(config folder 3 32 '{"source": "folder", "root": "data/cifar10-jpg"}')"

echo "== batch pipeline vs training step (batch 128, cnnkit data --bench) =="
for cfg in configs/cifar.json configs/mnist.json; do
  "$cnnkit" -q data -c "$cfg" --bench --batch-size 128 --bench-seconds 3 --json |
    field '"%-34s pipeline %8.0f images/s   train step %6.0f images/s   pipeline share of a serial step %.1f%%   (augment: %s)" % ("'"$cfg"'", d["bench"]["pipeline_images_per_second"], d["bench"]["train_step_images_per_second"], 100*d["bench"]["pipeline_time_share"], ", ".join(k for k,v in d["augment"].items() if v))'
done
