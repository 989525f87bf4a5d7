#!/usr/bin/env bash
# Accuracy benchmarks (long; not tests). One line per run: config, seed, precision, epochs, test
# accuracy of the final weights, the EMA weights' and the test-time-augmented figures separately
# when the config turns them on, which figure is the headline, and the wall time from start to
# the final test figure (start-up and data loading included); then, for several seeds, the mean
# and minimum. Run directories stay under runs/bench-*.
#
#   scripts/bench-accuracy.sh [--seeds "1 2 3"] [--set KEY=VALUE ...] [NAME|CONFIG.json ...]
#
#   (no NAME)      mnist cifar cifar_bn
#   mnist          configs/mnist.json (seed model): 1 epoch (target >= 98.5%) and 2 epochs (>= 99.0%)
#   mnist_1epoch   the seed model's 1-epoch recipe (configs/mnist_1epoch.json): >= 99.0% in <= 10 s
#   cifar          configs/cifar.json (seed architecture + augmentation + schedule): target > 82%
#   cifar_bn       configs/cifar_bn.json (seed stages + batch norm, < 300K params): target >= 85%
#   cifar_bn_bf16  the same with bf16 autocast (training.precision=bf16)
#   cifar_fast     configs/cifar_fast.json: >= 85% in <= 3 min
#   cifar_airbench configs/cifar_airbench.json: >= 93% in <= 20 min
#   FILE.json      any config, as it is (no target)
#
# --seeds "1 2 3" runs each benchmark once per seed (training.seed); default: the config's own.
# --set KEY=VALUE (repeatable) is passed to every `cnnkit train` after the benchmark's own
# settings: ablations (--set training.ema.enabled=false) and smoke runs
# (--set data.limit_train=512 --set data.limit_test=256 --set training.epochs=1).
#
# The time-to-accuracy configs (mnist_1epoch, cifar_fast, cifar_airbench) hold out a validation
# split for choosing the recipe; their benchmark runs train on the whole training set
# (data.validation_split=0, per-epoch figures then are test figures, for watching only) and
# report the final weights' test accuracy once. Give at least three seeds for a headline
# figure.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
ck="$BUILD_DIR/cnnkit"
[ -x "$ck" ] || { echo "bench-accuracy: build first (scripts/test.sh or cmake --build $BUILD_DIR)" >&2; exit 1; }
seeds=""
want=()
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seeds) seeds=$2; shift 2 ;;
    --seeds=*) seeds=${1#--seeds=}; shift ;;
    --set) extra+=(--set "$2"); shift 2 ;;
    --set=*) extra+=(--set "${1#--set=}"); shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "bench-accuracy: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) want+=("$1"); shift ;;
  esac
done
[ ${#want[@]} -gt 0 ] || want=(mnist cifar cifar_bn)
mkdir -p runs
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT

one() {  # one NAME TARGET CONFIG SEED [--set ...]
  local name=$1 target=$2 config=$3 seed=$4; shift 4
  local dir="runs/bench-$name${seed:+-seed$seed}"
  local seed_args=()
  [ -n "$seed" ] && seed_args=(--set "training.seed=$seed")
  rm -rf "$dir"
  local t0; t0=$(date +%s.%N)
  "$ck" train --config "$config" --run-dir "$dir" --json "$@" "${seed_args[@]}" ${extra[@]+"${extra[@]}"} \
    > "$dir.jsonl" 2> "$dir.log" || true
  local t1; t1=$(date +%s.%N)
  python3 - "$name" "$target" "$dir.jsonl" "$t0" "$t1" "$summary" "$config" <<'PY'
import json, sys
name, target, path, t0, t1, summary, config = sys.argv[1], float(sys.argv[2]), sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), sys.argv[6], sys.argv[7]
lines = [json.loads(l) for l in open(path) if l.strip()]
final = [l for l in lines if l.get("event") == "final"]
if not final:
    print(f"{name:16s} FAILED (see {path[:-6]}.log)"); sys.exit(0)
f = final[-1]; epochs = [l for l in lines if l.get("event") == "epoch"]
cfg = json.load(open(f["run_dir"] + "/config.json"))
fin = json.load(open(f["run_dir"] + "/final.json"))
seed = cfg["training"]["seed"]
weights = fin.get("weights", "raw")
test = fin["test"]
others = fin.get("test_other_weights", {})
# The final (raw) weights' plain figure; the averaged weights' (training.ema: "ema", or
# lookahead's slow weights "lookahead") when the run kept them; TTA of the run's reported
# weights when the config asks for it.
raw = test["accuracy"] if weights == "raw" else others.get("raw", {}).get("accuracy")
avg_name = weights if weights != "raw" else next((k for k in others if k != "raw"), "ema")
avg = test["accuracy"] if weights == avg_name else others.get(avg_name, {}).get("accuracy")
tta = test.get("tta", {}).get("accuracy")
headline = tta if tta is not None else test["accuracy"]
wall = t1 - t0
train_s = sum(e["seconds"] for e in epochs)
pct = lambda x: "-" if x is None else f"{100*x:.2f}%"
print(f"{name:16s} config {config}  seed {seed}  precision {fin.get('precision','?')}  epochs {fin['epochs']}  "
      f"test: final weights {pct(raw)}  {avg_name} {pct(avg)}  tta {pct(tta)}"
      + (f" ({test['tta']['views']} views, {weights} weights)" if tta is not None else "")
      + f"  headline {pct(headline)}" + (f" (target {100*target:.1f}%: {'met' if headline >= target else 'NOT met'})" if target > 0 else "")
      + f"  training {train_s:.1f} s  wall {wall:.1f} s ({wall/60:.2f} min)")
key = next((k for k in ("val_accuracy", "test_accuracy") if any(k in e for e in epochs)), None)
watch = "validation" if key == "val_accuracy" else "test (watch only)"
curve = " ".join(f"{100*e[key]:.1f}" for e in epochs if key in e) if key else ""
if curve:
    print(f"{'':16s} per-epoch {watch} accuracy: {curve}")
with open(summary, "a") as out:
    out.write(json.dumps({"name": name, "seed": seed, "accuracy": headline, "wall": wall}) + "\n")
PY
}

run() {  # run NAME TARGET CONFIG [--set ...]: once per seed
  local name=$1 target=$2 config=$3; shift 3
  if [ -z "$seeds" ]; then one "$name" "$target" "$config" "" "$@"; return; fi
  for s in $seeds; do one "$name" "$target" "$config" "$s" "$@"; done
  python3 - "$name" "$summary" <<'PY'
import json, sys, statistics
name, path = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(path) if l.strip() and json.loads(l)["name"] == name]
if len(rows) > 1:
    acc = [r["accuracy"] for r in rows]; wall = [r["wall"] for r in rows]
    print(f"{name:16s} {len(rows)} seeds ({', '.join(str(r['seed']) for r in rows)}): accuracy mean {100*statistics.mean(acc):.2f}%"
          f" min {100*min(acc):.2f}%  wall mean {statistics.mean(wall):.1f} s max {max(wall):.1f} s")
PY
}

# GET_DATA=0 skips fetching (the configs' data roots, or --set data.root=..., must hold the data).
[ "${GET_DATA:-1}" = 0 ] || scripts/get-data.sh mnist cifar10 >&2
for w in "${want[@]}"; do
  case "$w" in
    mnist)
      run mnist-1epoch 0.985 configs/mnist.json --set training.epochs=1
      run mnist-2epochs 0.990 configs/mnist.json --set training.epochs=2 ;;
    mnist_1epoch) run mnist_1epoch 0.990 configs/mnist_1epoch.json --set data.validation_split=0 ;;
    cifar) run cifar 0.82 configs/cifar.json ;;
    cifar_bn) run cifar_bn 0.85 configs/cifar_bn.json ;;
    cifar_bn_bf16) run cifar_bn_bf16 0.85 configs/cifar_bn.json --set training.precision=bf16 ;;
    cifar_fast) run cifar_fast 0.85 configs/cifar_fast.json --set data.validation_split=0 ;;
    cifar_airbench) run cifar_airbench 0.93 configs/cifar_airbench.json --set data.validation_split=0 ;;
    *.json) [ -f "$w" ] || { echo "bench-accuracy: no config file '$w'" >&2; exit 2; }
      run "$(basename "$w" .json)" 0 "$w" ;;
    *) echo "bench-accuracy: unknown benchmark '$w' (see --help)" >&2; exit 2 ;;
  esac
done
