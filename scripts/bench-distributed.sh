#!/usr/bin/env bash
# Ranks against threads (opt-in, not CI; needs MPICH: .ci/setup-mpi.sh): the same SpMM and FSC
# (d = 64, L = 3) on one process with 2 threads and on 2 ranks with 1 thread each, alternating the
# two sides for ROUNDS rounds so both see the same machine. kernels.md ("Distributed") holds the
# last measured table.
#
#   bash scripts/bench-distributed.sh [SHAPE...] [--rounds N]      (default: baby electronics, 3 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3
shapes=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) shapes+=("$1"); shift ;;
  esac
done
[ ${#shapes[@]} -gt 0 ] || shapes=(baby electronics)
dotnet build bench/Stair.Kernels.Benchmarks -c Release -nologo -v q > /dev/null
dll=bench/Stair.Kernels.Benchmarks/bin/Release/net10.0/Stair.Kernels.Benchmarks.dll
for ((round = 1; round <= rounds; round++)); do
  for shape in "${shapes[@]}"; do
    echo "round $round"
    mpiexec -n 1 dotnet "$dll" distributed --shape "$shape" --threads 2
    mpiexec -n 2 dotnet "$dll" distributed --shape "$shape" --threads 1
  done
done
