#!/usr/bin/env bash
# Big graphs (opt-in, not CI: about 30 s and 4 GB at the default size; with --inter a minute more
# and 2 GB of disk): draws a synthetic power-law interaction list, builds the user–item adjacency
# Ã from it and, with --inter, writes the interactions as an MMRec .inter file and streams it
# back, printing each step's wall time
# and peak memory (above what was resident when the step began) next to the size of its output.
#
#   bash scripts/scale.sh [--users U] [--items I] [--interactions N] [--seed S] [--inter FILE] [--json FILE]
#
# Defaults: 100 M interactions over 10 M users × 1 M items. kernels.md ("Building big graphs")
# holds the last measured table.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in -h|--help) sed -n '2,10p' "$0"; exit 0 ;; esac
dotnet build bench/Stair.Kernels.Benchmarks -c Release -nologo -v q > /dev/null
exec dotnet bench/Stair.Kernels.Benchmarks/bin/Release/net10.0/Stair.Kernels.Benchmarks.dll scale "$@"
