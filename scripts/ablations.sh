#!/usr/bin/env bash
# The README's results table: STAIR, each single ablation and LightGCN on a data set
# (default: the embedded MovieLens), three seeds each, then mean ± std of test Recall@20 /
# NDCG@20 and seconds per epoch. Every run's report is kept under $OUT (default
# artifacts/ablations/<data>). Extra arguments go to every `train` call, e.g.
#   bash scripts/ablations.sh --epochs 100
#   DATA=synthetic:baby SEEDS="1" VARIANTS="stair" bash scripts/ablations.sh --epochs 2 --eval-every 1
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-movielens}
SEEDS=${SEEDS:-"1 2 3"}
VARIANTS=${VARIANTS:-"stair no-modality-init no-fsc no-bsc lightgcn"}
OUT=${OUT:-artifacts/ablations/${DATA//:/-}}
mkdir -p "$OUT"
[ "${SKIP_BUILD:-0}" = 1 ] || dotnet build src/Stair.Kernels.Cli -c Release -v quiet -nologo >/dev/null
cli=(dotnet "${CLI_DLL:-src/Stair.Kernels.Cli/bin/Release/net10.0/stair-kernels.dll}")
for variant in $VARIANTS; do
  case $variant in
    stair) flags=() ;;
    lightgcn) flags=(--lightgcn) ;;
    *) flags=("--$variant") ;;
  esac
  for seed in $SEEDS; do
    echo "== $variant, seed $seed"
    "${cli[@]}" train --data "$DATA" --seed "$seed" "${flags[@]}" --metrics-out "$OUT/$variant-$seed.json" "$@" | tail -n 3
  done
done
python3 - "$OUT" $VARIANTS <<'PY'
import json, statistics, sys, glob, os
out, variants = sys.argv[1], sys.argv[2:]
print(f"| variant | Recall@20 | NDCG@20 | best epoch | s/epoch | runs |")
print(f"|---|---:|---:|---:|---:|---:|")
for v in variants:
    runs = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(out, f"{v}-*.json")))]
    if not runs: continue
    def stat(xs): return f"{statistics.mean(xs):.4f} ± {statistics.stdev(xs):.4f}" if len(xs) > 1 else f"{xs[0]:.4f}"
    idx = lambda r: r["test"]["ks"].index(20)
    rec = [r["test"]["recall"][idx(r)] for r in runs]
    ndcg = [r["test"]["ndcg"][idx(r)] for r in runs]
    best = [r["bestEpoch"] for r in runs]
    spe = [r["secondsPerEpoch"] for r in runs]
    print(f"| {v} | {stat(rec)} | {stat(ndcg)} | {statistics.mean(best):.0f} | {statistics.mean(spe):.3f} | {len(runs)} |")
PY
