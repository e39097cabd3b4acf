#!/usr/bin/env bash
# Builds the C references and probes by hand: bench/native/build.sh [OUTDIR] (default: bench/native/build).
# The same command NativeReference runs at benchmark time (keep the flags equal: a test checks them).
# Without gcc: installs gcc and libgomp1 with apt-get when run as root, else exits 3 with the reason.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/build}"
if ! command -v gcc >/dev/null 2>&1; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "build.sh: gcc not found; installing gcc and libgomp1 with apt-get" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libgomp1
    else
        echo "build.sh: gcc not found on PATH, and apt-get as root is not available to install it (needs gcc and libgomp1)" >&2
        exit 3
    fi
fi
mkdir -p "$out"
gcc -O3 -march=native -fopenmp -shared -fPIC -o "$out/libstair_ref.so" "$here/stair_ref.c"
echo "$out/libstair_ref.so"
