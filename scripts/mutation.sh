#!/usr/bin/env bash
# Mutation testing on demand (issue 17.4; not run in CI): dotnet-stryker 5.1.0 from the local tool
# manifest (dotnet-tools.json) over one area of the kernels, with the test run limited to that area's
# test classes. The configs are mutation/AREA.json; kernels.md ("Reliability", "Mutation score") records the scores.
#   bash scripts/mutation.sh propagation      # also: embedding-update, bpr, ranking, graphs, io
#   CONCURRENCY=1 bash scripts/mutation.sh io # fewer parallel test sessions on a busy machine
#   MUTATE='**/Ranking/ItemSets.cs' bash scripts/mutation.sh ranking   # re-run only these files (space-separated
#                                             # globs, replacing the config's list) with the area's test filter
# Dots print one character per tested mutant (. killed, S survived, T timeout), so a log shows progress.
# Reports (html, json, markdown) go to StrykerOutput/AREA/reports (git-ignored), replaced by the area's next run.
# ILGPU kernels (src/Stair.Kernels/Gpu/**) are not mutated: their tests need a device or the slow
# simulator, and a mutant switch inside a kernel ILGPU compiles is not a kernel it can compile.
set -euo pipefail
cd "$(dirname "$0")/.."
areas="propagation embedding-update bpr ranking graphs io"
area=${1:-}
if [ -z "$area" ] || [ ! -f "mutation/$area.json" ]; then
  echo "usage: $0 AREA   (AREA: $areas)" >&2
  exit 2
fi
dotnet tool restore >/dev/null
out="$PWD/StrykerOutput/$area"
args=(-f "../../mutation/$area.json" -O "$out" --skip-version-check)
[ -n "${CONCURRENCY:-}" ] && args+=(-c "$CONCURRENCY")
if [ -n "${MUTATE:-}" ]; then
  set -f # the globs are Stryker's, not the shell's
  for pattern in $MUTATE; do args+=(-m "$pattern"); done
  set +f
fi
start=$(date +%s)
# Stryker runs from the test project's folder (at the repository root it would take Kernels.sln as its context).
mkdir -p "$out"
set +e
(cd tests/Stair.Kernels.Tests && dotnet stryker "${args[@]}") 2>&1 | tee "$out.log"
status=${PIPESTATUS[0]}
set -e
end=$(date +%s)
report=$(ls -t "$out"/reports/mutation-report.json "$out"/*/reports/mutation-report.json 2>/dev/null | head -1 || true)
if [ -n "$report" ]; then
  python3 - "$report" "$area" "$((end - start))" <<'PY'
import json, sys
from collections import Counter
report, area, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])
counts = Counter(m["status"] for f in json.load(open(report))["files"].values() for m in f["mutants"])
killed, timeout, survived, nocov = counts["Killed"], counts["Timeout"], counts["Survived"], counts["NoCoverage"]
detected = killed + timeout
valid = detected + survived + nocov
score = 100.0 * detected / valid if valid else float("nan")
print(f"\n{area}: {valid} mutants tested: {killed} killed, {timeout} timeout, {survived} survived, {nocov} no coverage; "
      f"ignored {counts['Ignored']}, compile errors {counts['CompileError']}; score {score:.2f} % in {seconds} s")
print(f"report: {report}")
PY
fi
exit "$status"
