#!/usr/bin/env bash
# Builds cnnkit and its tests with AddressSanitizer + UndefinedBehaviorSanitizer in their own
# build folder (CNNKIT_SANITIZE=ON, the default compiler, -O1) and runs the whole suite with
# CTest. Any sanitizer report fails the test that caused it, also inside the cnnkit processes
# the CLI tests start (they exit with code 86 on a report, which no test expects).
#
#   scripts/sanitize.sh [CTEST ARGS...]     e.g. scripts/sanitize.sh -R 'Checkpoint|Config'
#   Environment: SANITIZE_BUILD_DIR (default build-sanitize), SANITIZE_JOBS (default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
BUILD=${SANITIZE_BUILD_DIR:-build-sanitize}
JOBS=${SANITIZE_JOBS:-$(nproc)}
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DCNNKIT_SANITIZE=ON "${launcher[@]}" >/dev/null
cmake --build "$BUILD" -j "$JOBS"

# detect_odr_violation=0: LibTorch's and OpenCV's shared libraries define some globals twice,
# which is theirs to fix. Leak checking stays on (lsan.supp lists what third-party libraries
# allocate once and keep).
export ASAN_OPTIONS=${ASAN_OPTIONS:-exitcode=86:detect_odr_violation=0:detect_stack_use_after_return=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-exitcode=86:print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-exitcode=86:suppressions=$PWD/tests/sanitize/lsan.supp:print_suppressions=0}
cd "$BUILD"
start=$(date +%s)
ctest --output-on-failure -j "$JOBS" --timeout 1800 "$@"
echo "sanitize.sh: suite passed under ASan + UBSan in $(( $(date +%s) - start )) s" >&2
