#!/usr/bin/env bash
# Builds the Debian package: build/cnnkit_<version>_<arch>.deb (CPack), whose Depends name the
# Debian packages of the libraries the binary links (dpkg-shlibdeps) plus OpenBLAS.
#
#   scripts/package.sh [BUILD_DIR]     default BUILD_DIR: build (configured here when needed)
#   sudo apt install ./build/cnnkit_*.deb
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
if [ ! -f "$build/CMakeCache.txt" ]; then
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release >&2
fi
cmake --build "$build" -j "$(nproc)" >&2
(cd "$build" && cpack -G DEB >&2)
deb=$(ls -t "$build"/cnnkit_*.deb | head -1)
dpkg-deb --info "$deb" | sed -n '/Package:/,$p' >&2
echo "$deb"
