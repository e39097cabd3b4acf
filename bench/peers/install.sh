#!/usr/bin/env bash
# Installs the peer libraries of the benchmark report (bench/peers/peers.py) from Debian's packages:
# python3 with numpy, scipy, PyTorch (CPU), scikit-learn and threadpoolctl, on OpenBLAS (pthread build).
# Run as root. Idempotent: installs only what is missing, and switches the libblas.so.3 / liblapack.so.3
# alternatives to OpenBLAS only when they point at the reference BLAS/LAPACK (a choice of any other
# optimized BLAS is left alone). Ends by importing every module with /usr/bin/python3 and printing the
# versions and the BLAS that numpy, scipy and torch load.
#
# The peers run on Debian's interpreter (/usr/bin/python3): a python3 from pyenv or a venv does not see
# Debian's dist-packages. PeerRunner picks /usr/bin/python3 first for that reason.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
    echo "install.sh: run as root (apt-get and update-alternatives need it)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
packages=(python3 python3-numpy python3-scipy python3-torch python3-sklearn python3-threadpoolctl libopenblas0-pthread)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if (( ${#missing[@]} > 0 )); then
    echo "install.sh: installing ${missing[*]}"
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
else
    echo "install.sh: every package is installed already"
fi

# Debian ships BLAS and LAPACK as alternatives: the reference build lives in .../blas and .../lapack,
# OpenBLAS's pthread build in .../openblas-pthread. Installing OpenBLAS raises its priority, but a
# manual choice of the reference build survives the install, so check what is selected.
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
for lib in libblas.so.3 liblapack.so.3; do
    name="$lib-$arch"
    current=$(update-alternatives --query "$name" 2>/dev/null | awk '/^Value:/ {print $2}')
    openblas="/usr/lib/$arch/openblas-pthread/$lib"
    case "$current" in
        */blas/libblas.so.3 | */lapack/liblapack.so.3 | "")
            if [[ -e "$openblas" ]]; then
                echo "install.sh: $name was '${current:-unset}', switching to $openblas"
                update-alternatives --set "$name" "$openblas"
            else
                echo "install.sh: $openblas is missing; $name stays '${current:-unset}'" >&2
                exit 1
            fi
            ;;
        *)
            echo "install.sh: $name -> $current (kept)"
            ;;
    esac
done

# Verify: every module imports under Debian's interpreter, and the BLAS the process maps is OpenBLAS.
/usr/bin/python3 - <<'PY'
import os, sys
import numpy, scipy, scipy.linalg, scipy.sparse, sklearn, torch
print("python", sys.version.split()[0])
for m in (numpy, scipy, torch, sklearn):
    print(m.__name__, m.__version__)
libs = set()
with open("/proc/self/maps") as f:
    for line in f:
        path = line.split()[-1]
        base = os.path.basename(path)
        if base.startswith("lib") and ".cpython-" not in base and ("blas" in base or "lapack" in base):
            libs.add(os.path.realpath(path))
for lib in sorted(libs):
    print("loaded", lib)
try:
    import threadpoolctl
    for info in threadpoolctl.threadpool_info():
        print("threadpool", info.get("internal_api"), info.get("threading_layer"), info.get("version"), info.get("filepath"))
except ImportError:
    pass
blas = [l for l in libs if "libblas" in l or "libopenblas" in l]
if not blas or not all("openblas" in l for l in blas):
    sys.exit("install.sh: numpy/scipy/torch do not run on OpenBLAS: " + ", ".join(sorted(libs)))
print("blas OK:", ", ".join(sorted(blas)))
PY
