#!/usr/bin/env bash
# The property-based equivalence tests (tests/Stair.Kernels.Tests/Properties) with more cases than
# CI's 100 per property, then the cases and seconds of every property × target. Examples:
#   bash scripts/properties.sh                       # 1,000 cases per property, every target
#   ITERATIONS=100 bash scripts/properties.sh        # what CI runs
#   ILGPU_ITERATIONS=200 bash scripts/properties.sh  # fewer cases on the ILGPU backends
#   FILTER=PropagationProperties bash scripts/properties.sh
#   SEED=5pUDxC9djvs1 FILTER=Spmm_matches bash scripts/properties.sh   # replay a printed failure
# OpenCL runs through PoCL when .ci/opencl-env.sh finds it (skipped otherwise); the tests run
# one at a time (one collection) and each property samples on one thread.
set -uo pipefail
cd "$(dirname "$0")/.."
export STAIR_PROPERTY_ITERATIONS=${ITERATIONS:-1000}
export STAIR_PROPERTY_ILGPU_ITERATIONS=${ILGPU_ITERATIONS:-$STAIR_PROPERTY_ITERATIONS}
[ -n "${SEED:-}" ] && export STAIR_PROPERTY_SEED=$SEED
# shellcheck disable=SC1091
. .ci/opencl-env.sh 2>/dev/null || echo "properties: no PoCL, the OpenCL target is skipped" >&2
report=$(mktemp)
export STAIR_PROPERTY_REPORT=$report
filter="FullyQualifiedName~Stair.Kernels.Tests.Properties${FILTER:+&FullyQualifiedName~$FILTER}"
start=$(date +%s)
[ "${SKIP_BUILD:-0}" = 1 ] || dotnet build tests/Stair.Kernels.Tests -c Release -v quiet -nologo >/dev/null || exit 1
dotnet test tests/Stair.Kernels.Tests -c Release --no-build --filter "$filter" -nologo
status=$?
end=$(date +%s)
echo
printf '%-40s %-22s %8s %9s\n' property target cases seconds
sort "$report" | awk -F'\t' '{ printf "%-40s %-22s %8d %9.2f\n", $1, $2, $3, $4; if ($1 !~ /:/) { n += $3; s += $4 } }
  END { printf "%-40s %-22s %8d %9.2f\n", "total", "", n, s }'
echo "wall time $((end - start)) s (build and test host start included); ${STAIR_PROPERTY_ITERATIONS} cases per property on the CPU tiers, ${STAIR_PROPERTY_ILGPU_ITERATIONS} on ILGPU"
rm -f "$report"
exit $status
