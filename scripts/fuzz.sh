#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in their own build folder, and runs them one after the other.
#
#   scripts/fuzz.sh [TARGET] [SECONDS]
#     TARGET   idx | cifar | config | checkpoint | image | all (default: all)
#     SECONDS  fuzzing time per target (default: 60)
#   Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_JOBS (build jobs, default nproc),
#                FUZZ_ARGS (more libFuzzer options, e.g. "-max_len=65536").
#
# Corpus: the committed seeds in tests/fuzz/corpus/TARGET (read only), seeds the targets
# generate (BUILD/seeds/TARGET), and what the fuzzer learns (BUILD/corpus/TARGET, kept between
# runs). Findings land in BUILD/findings/TARGET/ (crash-*, oom-*, timeout-*, leak-*); the script
# exits 1 when a run found something. Reproduce one with: BUILD/tests/fuzz/fuzz_TARGET FILE
set -euo pipefail
cd "$(dirname "$0")/.."

ALL=(idx cifar config checkpoint image)
TARGET=${1:-all}
SECONDS_PER_TARGET=${2:-60}
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
if [ "$TARGET" = all ]; then
  targets=("${ALL[@]}")
elif printf '%s\n' "${ALL[@]}" | grep -qx "$TARGET"; then
  targets=("$TARGET")
else
  echo "fuzz.sh: unknown target '$TARGET'; known: ${ALL[*]} all" >&2
  exit 2
fi

scripts/install-deps.sh --fuzz
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  -DCMAKE_CXX_COMPILER=clang++ \
  -DCNNKIT_FUZZ=ON -DCNNKIT_BUILD_TESTS=OFF "${launcher[@]}" >/dev/null
build_targets=()
for t in "${targets[@]}"; do build_targets+=(--target "fuzz_$t"); done
cmake --build "$BUILD" -j "${FUZZ_JOBS:-$(nproc)}" "${build_targets[@]}"

# Leaks inside LibTorch's and OpenCV's static initialisation are not ours: libFuzzer's own leak
# check (-detect_leaks) still reports leaks that grow per input.
export ASAN_OPTIONS=${ASAN_OPTIONS:-allocator_may_return_null=1:detect_stack_use_after_return=1:detect_odr_violation=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for t in "${targets[@]}"; do
  corpus="$BUILD/corpus/$t" findings="$BUILD/findings/$t" seeds="$BUILD/seeds/$t"
  mkdir -p "$corpus" "$findings" "$seeds"
  # Targets that generate seeds (checkpoint, image) write them and exit; -runs=0 makes the others
  # exit at once instead of fuzzing without a corpus.
  CNNKIT_FUZZ_MAKE_SEEDS="$seeds" "$BUILD/tests/fuzz/fuzz_$t" -runs=0 >/dev/null 2>&1 || true
  dict=() committed=()
  if [ -f "tests/fuzz/$t.dict" ]; then dict=(-dict="tests/fuzz/$t.dict"); fi
  # Targets that make their seeds (checkpoint, image) have no committed corpus folder, and
  # libFuzzer exits on a folder that does not exist.
  if [ -d "tests/fuzz/corpus/$t" ]; then committed=("tests/fuzz/corpus/$t"); fi
  before=$(find "$findings" -type f | wc -l)
  echo "fuzz.sh: $t for ${SECONDS_PER_TARGET}s" >&2
  # -rss_limit_mb/-malloc_limit_mb: one input may not take more than 2 GiB in all, nor ask for
  # more than 1 GiB at once; -timeout: nor take more than 20 s.
  # shellcheck disable=SC2086
  "$BUILD/tests/fuzz/fuzz_$t" "$corpus" "${committed[@]}" "$seeds" "${dict[@]}" \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -max_len=16384 -print_final_stats=1 -artifact_prefix="$findings/" ${FUZZ_ARGS:-} \
    2>"$BUILD/fuzz-$t.log" || status=1
  grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|INFO: seed corpus|==[0-9]+==ERROR|SUMMARY|==== cnnkit fuzz finding|artifact_prefix|Test unit written)' \
    "$BUILD/fuzz-$t.log" >&2 || true
  after=$(find "$findings" -type f | wc -l)
  if [ "$after" -gt "$before" ]; then status=1; fi
done
if [ "$status" -ne 0 ]; then
  echo "fuzz.sh: findings in $BUILD/findings (logs: $BUILD/fuzz-TARGET.log)" >&2
fi
exit "$status"
