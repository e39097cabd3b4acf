#!/usr/bin/env bash
# The benchmark report (opt-in, not CI): every kernel on every SIMD tier and backend present,
# against a floor measured in the same run (memory and FMA probes, C reference loops built here
# with gcc) and, with --peers, PyTorch / scipy / scikit-learn / numpy on the same inputs.
#
#   bash scripts/bench.sh [--quick | --smoke] [--backend B[,B…]] [--filter F[,F…]] [--out DIR] [--peers] [--rounds N]
#
# Default is the full report (every shape, growth to 10× Electronics, 3 rounds, ≤ 60 min on 2
# cores); --quick runs the Baby shapes and growth to Electronics in 2 rounds (≤ 10 min); --smoke
# one tiny case per kernel and variant (what CI runs). Writes DIR (default artifacts/report-<mode>):
# report.md, report.json, charts/*.png, peers/ and bdn/ (BenchmarkDotNet's artifacts per round).
# Installs what it needs when it can (as root, via apt-get): gcc and libgomp for the C references,
# and with --peers the Debian Python packages (bench/peers/install.sh). Uses the PoCL OpenCL
# device that scripts/test.sh sets up, if present; CUDA when a driver is present.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=full
args=()
peers=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) mode=quick ;;
    --smoke) mode=smoke ;;
    --full) mode=full ;;
    --peers) peers=1; args+=(--peers) ;;
    --backend|--filter|--out|--rounds)
      [ $# -ge 2 ] || { echo "bench.sh: $1 needs a value" >&2; exit 2; }
      args+=("$1" "$2"); shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    echo "bench.sh: installing $* (apt-get)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" > /dev/null 2>&1 \
      || { apt-get update -q > /dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" > /dev/null 2>&1; } \
      || echo "bench.sh: could not install $*" >&2
  fi
}
if ! command -v gcc > /dev/null; then
  apt_install gcc libgomp1 libc6-dev
fi
if [ "$peers" = 1 ]; then
  bash bench/peers/install.sh || echo "bench.sh: the peers' install failed; the report lists the peers it could not run" >&2
fi
if [ -f .ci/opencl-env.sh ]; then
  # shellcheck source=/dev/null
  source .ci/opencl-env.sh 2>/dev/null || true
fi
dotnet build bench/Stair.Kernels.Benchmarks -c Release -nologo -v q > /dev/null
exec dotnet bench/Stair.Kernels.Benchmarks/bin/Release/net10.0/Stair.Kernels.Benchmarks.dll report --mode "$mode" "${args[@]}"
