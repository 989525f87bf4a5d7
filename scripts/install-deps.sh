#!/usr/bin/env bash
# Installs every build and runtime dependency of cnnkit from Debian 12 packages.
# Idempotent: packages already present are left alone; apt-get update runs only when needed.
#   scripts/install-deps.sh          what building, testing and scripts/sanitize.sh need
#   scripts/install-deps.sh --fuzz   also clang and libFuzzer for scripts/fuzz.sh (not needed by CI)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev            # LibTorch 1.13.1 (CPU)
  libgloo-dev             # Gloo headers for c10d's ProcessGroupGloo (distributed training)
  libcli11-dev            # command-line parsing
  nlohmann-json3-dev      # JSON configs and outputs
  libspdlog-dev           # logging
  libopencv-dev           # image decode/encode, drawing
  libgtest-dev googletest # unit tests
  zlib1g-dev              # reading .gz IDX files
  libopenblas0-openmp     # fast BLAS for Linear layers (takes over libblas.so.3)
  help2man                # the man page, generated from --help
  dpkg-dev file           # scripts/package.sh: the .deb (dpkg-shlibdeps names its dependencies)
  python3-torch           # cnnkit export: ONNX conversion; tests load exports in Python
  python3-onnx            # cnnkit export: onnx.checker on model.onnx
)
# Optional group: the libFuzzer targets (tests/fuzz, scripts/fuzz.sh) need clang.
fuzz_packages=(clang libfuzzer-14-dev)
for arg in "$@"; do
  case "$arg" in
    --fuzz) packages+=("${fuzz_packages[@]}") ;;
    *) echo "install-deps: unknown option $arg (expected --fuzz)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present" >&2
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done" >&2
