#!/usr/bin/env bash
# Fetches datasets into data/ (git-ignored) and verifies them.
#
#   scripts/get-data.sh [--mirror DIR | --online] [--dest DIR] [mnist|fashion-mnist|cifar10 ...]
#
#   data/mnist           MNIST, the four IDX .gz files
#   data/fashion-mnist   Fashion-MNIST, the four IDX .gz files
#   data/cifar10         CIFAR-10 binary version (data_batch_1..5.bin, test_batch.bin, batches.meta.txt)
#   data/cifar10-jpg     CIFAR-10 as an image folder (train/<class>/*.jpg, test/<class>/*.jpg);
#                        only from a mirror (the JPEG re-encoding is not published online)
#
# Sources: with --mirror DIR, a local copy laid out like ../shared/data (mnist/*.gz + SHA256SUMS,
# cifar10/cifar10-jpg.tar.gz + make-cifar10-bin.sh); that is the default when ../shared/data
# exists. With --online (the default otherwise), the datasets' canonical public locations.
# Every file is checked against a known checksum; a dataset already present and verified is
# skipped, so the script can be run again at any time. With no dataset named it gets every
# dataset the source has.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/data"
mirror=""
mode=""
want=()

usage() { sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
say() { echo "get-data: $*" >&2; }
die() { echo "get-data: error: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --mirror) [ $# -ge 2 ] || usage; mirror="$2"; mode=mirror; shift 2 ;;
    --online) mode=online; shift ;;
    --dest) [ $# -ge 2 ] || usage; dest="$2"; shift 2 ;;
    -h|--help) usage ;;
    mnist|fashion-mnist|cifar10) want+=("$1"); shift ;;
    *) echo "get-data: unknown argument '$1'" >&2; usage ;;
  esac
done
if [ -z "$mode" ]; then
  if [ -d "$root/../shared/data" ]; then mode=mirror; mirror="$root/../shared/data"; else mode=online; fi
fi
if [ "$mode" = mirror ]; then
  [ -d "$mirror" ] || die "$mirror: mirror folder not found"
  mirror="$(cd "$mirror" && pwd)"
fi
if [ ${#want[@]} -eq 0 ]; then
  if [ "$mode" = mirror ]; then
    for d in mnist fashion-mnist cifar10; do
      if [ -d "$mirror/$d" ]; then want+=("$d"); fi
    done
    [ ${#want[@]} -gt 0 ] || die "$mirror: holds none of mnist, fashion-mnist, cifar10"
  else
    want=(mnist fashion-mnist cifar10)
  fi
fi
mkdir -p "$dest"

# ---- helpers -------------------------------------------------------------------------------
fetch() {  # fetch URL FILE: download with curl or wget
  local url="$1" out="$2"
  if command -v curl >/dev/null; then
    curl -fsSL --retry 2 --connect-timeout 20 -o "$out.part" "$url" || return 1
  elif command -v wget >/dev/null; then
    wget -q -T 20 -O "$out.part" "$url" || return 1
  else
    die "neither curl nor wget is installed"
  fi
  mv "$out.part" "$out"
}
fetch_any() {  # fetch_any FILE URL...: the first URL that works
  local out="$1"; shift
  for url in "$@"; do
    say "downloading $url"
    if fetch "$url" "$out"; then return 0; fi
    rm -f "$out.part"
  done
  die "could not download $(basename "$out") from: $*"
}
md5_ok() { [ -f "$1" ] && [ "$(md5sum "$1" | cut -d' ' -f1)" = "$2" ]; }
gz_sha256_ok() { [ -f "$1" ] && [ "$(gzip -dc "$1" | sha256sum | cut -d' ' -f1)" = "$2" ]; }

# MNIST: SHA-256 of the *uncompressed* IDX files (as in ../shared/data/mnist/SHA256SUMS).
declare -A mnist_sha=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)
mnist_urls=(https://ossci-datasets.s3.amazonaws.com/mnist http://yann.lecun.com/exdb/mnist)
# Fashion-MNIST: MD5 of the .gz files, as published by Zalando (and checked by torchvision).
declare -A fashion_md5=(
  [train-images-idx3-ubyte]=8d4fb7e6c68d591d4c3dfef9ec88bf0d
  [train-labels-idx1-ubyte]=25c81989df183df01b3e8a0aad5dffbe
  [t10k-images-idx3-ubyte]=bef4ecab320f06d8554ea6380940ec79
  [t10k-labels-idx1-ubyte]=bb300cfdad3c16e7a12a480ee83cd310
)
fashion_url=http://fashion-mnist.s3-website.eu-central-1.amazonaws.com
# CIFAR-10 binary version: MD5 of the tarball as published on the dataset's home page.
cifar_url=https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz
cifar_md5=c32a1d4ab5d03f1284b67883e8d87530
cifar_files=(data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin batches.meta.txt)

# ---- datasets ------------------------------------------------------------------------------
get_mnist() {
  local out="$dest/mnist" ok=1
  mkdir -p "$out"
  for f in "${!mnist_sha[@]}"; do gz_sha256_ok "$out/$f.gz" "${mnist_sha[$f]}" || ok=0; done
  if [ $ok = 1 ]; then say "mnist: present and verified in $out"; return; fi
  for f in "${!mnist_sha[@]}"; do
    gz_sha256_ok "$out/$f.gz" "${mnist_sha[$f]}" && continue
    if [ "$mode" = mirror ]; then
      [ -f "$mirror/mnist/$f.gz" ] || die "$mirror/mnist/$f.gz: not in the mirror"
      cp "$mirror/mnist/$f.gz" "$out/$f.gz.part" && mv "$out/$f.gz.part" "$out/$f.gz"
    else
      local urls=()
      for u in "${mnist_urls[@]}"; do urls+=("$u/$f.gz"); done
      fetch_any "$out/$f.gz" "${urls[@]}"
    fi
    gz_sha256_ok "$out/$f.gz" "${mnist_sha[$f]}" || { rm -f "$out/$f.gz"; die "$out/$f.gz: checksum mismatch (removed)"; }
  done
  say "mnist: 4 files verified in $out"
}

get_fashion() {
  local out="$dest/fashion-mnist" ok=1
  mkdir -p "$out"
  for f in "${!fashion_md5[@]}"; do md5_ok "$out/$f.gz" "${fashion_md5[$f]}" || ok=0; done
  if [ $ok = 1 ]; then say "fashion-mnist: present and verified in $out"; return; fi
  for f in "${!fashion_md5[@]}"; do
    md5_ok "$out/$f.gz" "${fashion_md5[$f]}" && continue
    if [ "$mode" = mirror ]; then
      [ -f "$mirror/fashion-mnist/$f.gz" ] || die "$mirror/fashion-mnist/$f.gz: not in the mirror (try --online)"
      cp "$mirror/fashion-mnist/$f.gz" "$out/$f.gz.part" && mv "$out/$f.gz.part" "$out/$f.gz"
    else
      fetch_any "$out/$f.gz" "$fashion_url/$f.gz"
    fi
    md5_ok "$out/$f.gz" "${fashion_md5[$f]}" || { rm -f "$out/$f.gz"; die "$out/$f.gz: checksum mismatch (removed)"; }
  done
  say "fashion-mnist: 4 files verified in $out"
}

get_cifar10_mirror() {
  local src="$mirror/cifar10" out="$dest/cifar10" jpg="$dest/cifar10-jpg"
  [ -f "$src/cifar10-jpg.tar.gz" ] || die "$src/cifar10-jpg.tar.gz: not in the mirror"
  if [ -f "$out/SHA256SUMS.bin" ] && (cd "$out" && sha256sum --quiet -c SHA256SUMS.bin >/dev/null 2>&1); then
    say "cifar10: present and verified in $out"
  else
    say "cifar10: decoding the mirror's JPEGs into the binary batches (about 10 s)"
    rm -rf "$out.part"
    "$src/make-cifar10-bin.sh" "$out.part" >&2  # verifies against SHA256SUMS.bin itself
    cp "$src/SHA256SUMS.bin" "$out.part/SHA256SUMS.bin"
    rm -rf "$out" && mv "$out.part" "$out"
    say "cifar10: binary batches verified in $out"
  fi
  local stamp
  stamp="$(sha256sum "$src/cifar10-jpg.tar.gz" | cut -d' ' -f1)"
  if [ -f "$jpg/.complete" ] && [ "$(cat "$jpg/.complete")" = "$stamp" ]; then
    say "cifar10-jpg: present in $jpg"
  else
    rm -rf "$jpg.part" && mkdir -p "$jpg.part"
    tar xzf "$src/cifar10-jpg.tar.gz" -C "$jpg.part"
    local n
    n=$(find "$jpg.part" -name '*.jpg' | wc -l)
    [ "$n" -eq 60000 ] || die "$src/cifar10-jpg.tar.gz: expected 60000 JPEGs, found $n"
    echo "$stamp" > "$jpg.part/.complete"
    rm -rf "$jpg" && mv "$jpg.part" "$jpg"
    say "cifar10-jpg: 60000 images in $jpg"
  fi
}

get_cifar10_online() {
  local out="$dest/cifar10" tgz="$dest/cifar-10-binary.tar.gz" ok=1
  for f in "${cifar_files[@]}"; do [ -f "$out/$f" ] || ok=0; done
  if [ $ok = 1 ] && [ -f "$out/.complete" ]; then say "cifar10: present in $out"; return; fi
  md5_ok "$tgz" "$cifar_md5" || fetch_any "$tgz" "$cifar_url"
  md5_ok "$tgz" "$cifar_md5" || { rm -f "$tgz"; die "$tgz: checksum mismatch (removed)"; }
  rm -rf "$out.part" && mkdir -p "$out.part"
  tar xzf "$tgz" -C "$out.part" --strip-components=1
  for f in "${cifar_files[@]}"; do [ -f "$out.part/$f" ] || die "$tgz: $f missing from the archive"; done
  touch "$out.part/.complete"
  rm -rf "$out" && mv "$out.part" "$out" && rm -f "$tgz"
  say "cifar10: binary batches in $out"
}

say "source: $mode${mirror:+ ($mirror)}; destination: $dest"
for d in "${want[@]}"; do
  case "$d" in
    mnist) get_mnist ;;
    fashion-mnist) get_fashion ;;
    cifar10) if [ "$mode" = mirror ]; then get_cifar10_mirror; else get_cifar10_online; fi ;;
  esac
done
