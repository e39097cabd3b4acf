#!/usr/bin/env bash
# Side-by-side benchmarks of two builds in one run (opt-in; not CI). Builds the benchmark project
# of BASE (a commit) and of the working tree into separate folders, then runs every selected suite
# on both, alternating base and this build for ROUNDS rounds, in-process, and prints one table:
# suite, method, case, the mean of each build per round, and this/base (< 1 is faster).
#
#   scripts/bench-compare.sh BASE [ROUNDS]
#
# SUITES (env) lists "class|VARIABLE=cases" entries separated by ';' (BenchmarkDotNet filters
# methods, the STAIR_*_CASES variables filter cases); the default is the refactoring guard set:
# SpMM/FSC on Baby and Electronics, AdamW/BSC-AdamW, BPR, ranking, kNN on Baby text and whitening
# of 7,050 × 384, all on the AVX-512 tier (the CPU this was written on has it). A base whose suite
# lacks a case variable runs all its cases; only cases present in both builds are compared.
# JOB (env) is passed to BenchmarkDotNet (default: --warmupCount 3 --iterationCount 7 --launchCount 1).
# BASE_PICK (env) lists commits applied to the base's tree first (e.g. a later benchmark-only commit that
# adds a case filter), so both builds run the same benchmark code.
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:?usage: scripts/bench-compare.sh BASE [ROUNDS]}
rounds=${2:-2}
work=$(mktemp -d /tmp/stair-bench-compare.XXXXXX)
trap 'git worktree remove --force "$work/base-src" >/dev/null 2>&1 || true' EXIT
if [ -f .ci/opencl-env.sh ]; then
  # shellcheck source=/dev/null
  source .ci/opencl-env.sh 2>/dev/null || true
fi

suites=${SUITES:-"PropagationBenchmarks|STAIR_PROPAGATION_CASES=baby/avx512,electronics/avx512;EmbeddingUpdateBenchmarks|STAIR_UPDATE_CASES=baby/avx512;BprLossBenchmarks|STAIR_BPR_CASES=baby/avx512;RankingBenchmarks|STAIR_RANKING_CASES=baby/avx512;KnnGraphBenchmarks|STAIR_KNN_CASES=baby-text/avx512;WhiteningBenchmarks|STAIR_WHITEN_CASES=baby-text/exact/cpu,baby-text/randomized/cpu"}
job=${JOB:-"--warmupCount 3 --iterationCount 7 --launchCount 1"}

git worktree add --detach -q "$work/base-src" "$base"
for pick in ${BASE_PICK:-}; do
  git -C "$work/base-src" cherry-pick --no-commit "$pick" >/dev/null
done
echo "building base $(git -C "$work/base-src" rev-parse --short HEAD) and this tree ($(git rev-parse --short HEAD)$(git diff --quiet || echo ' + changes'))" >&2
dotnet build "$work/base-src/bench/Stair.Kernels.Benchmarks" -c Release -o "$work/base-bin" -v q -nologo >/dev/null
dotnet build bench/Stair.Kernels.Benchmarks -c Release -o "$work/this-bin" -v q -nologo >/dev/null

IFS=';' read -ra list <<< "$suites"
for ((round = 1; round <= rounds; round++)); do
  for entry in "${list[@]}"; do
    class=${entry%%|*}
    filter=${entry#*|}
    for side in base this; do
      echo "round $round: $class on $side" >&2
      (cd "$work" && env "$filter" dotnet "$work/$side-bin/Stair.Kernels.Benchmarks.dll" --filter "*.$class.*" --inProcess \
        $job --exporters json --artifacts "$work/results/$round/$side/$class" >"$work/$side-$class-$round.log" 2>&1) \
        || { echo "failed: $class on $side (log: $work/$side-$class-$round.log)" >&2; exit 1; }
    done
  done
done

python3 - "$work/results" "$rounds" <<'PY'
import json, glob, os, sys
root, rounds = sys.argv[1], int(sys.argv[2])
means = {}  # (class, method, params) -> {(round, side): mean ns}
for path in glob.glob(os.path.join(root, '*', '*', '*', 'results', '*.json')):
    parts = path.split(os.sep)
    rnd, side, cls = parts[-5], parts[-4], parts[-3]
    for b in json.load(open(path))['Benchmarks']:
        stats = b.get('Statistics')
        if stats:
            means.setdefault((cls, b['Method'], b.get('Parameters', '')), {})[(int(rnd), side)] = stats['Mean']
def fmt(ns):
    return f"{ns / 1e6:.3f} ms" if ns >= 1e5 else f"{ns / 1e3:.1f} µs"
print('| suite | method | parameters | ' + ' | '.join(f'base r{r} | this r{r} | this/base r{r}' for r in range(1, rounds + 1)) + ' |')
print('|' + '---|' * (3 + 3 * rounds))
for (cls, method, params), m in sorted(means.items()):
    if not all((r, s) in m for r in range(1, rounds + 1) for s in ('base', 'this')):
        continue
    cells = []
    for r in range(1, rounds + 1):
        b, t = m[(r, 'base')], m[(r, 'this')]
        cells += [fmt(b), fmt(t), f'{t / b:.2f}']
    print(f'| {cls.replace("Benchmarks", "")} | {method} | {params} | ' + ' | '.join(cells) + ' |')
PY
echo "logs and BenchmarkDotNet reports: $work" >&2
