#!/usr/bin/env bash
# The training soak (issue 17.6): 10,000 training steps of STAIR on synthetic:baby (batch 1,024, 127
# batches per epoch: 79 epochs), memory sampled every 500 steps, the last sample within 5 % of the one
# after the first 1,000 steps (tests/Stair.Recommender.Tests/Training/TrainingSoakTests.cs). Examples:
#   bash scripts/soak.sh                       # 10,000 steps on the CPU backend (~15–30 min on the 2-core VM)
#   STEPS=2000 bash scripts/soak.sh            # a shorter run
#   BACKEND=OpenCL bash scripts/soak.sh        # through PoCL (.ci/opencl-env.sh)
# Each sample is appended to $LOG (default: soak-<date>.log in the repository root) as it is taken, and
# the summary (start, reference, end, max, steps/s) is printed at the end.
set -uo pipefail
cd "$(dirname "$0")/.."
export STAIR_SOAK=1
export STAIR_SOAK_STEPS=${STEPS:-10000}
export STAIR_SOAK_BACKEND=${BACKEND:-Cpu}
export STAIR_SOAK_LOG=${LOG:-$PWD/soak-$(date +%Y%m%d-%H%M%S).log}
if [ "${STAIR_SOAK_BACKEND,,}" = opencl ]; then
  # shellcheck disable=SC1091
  . .ci/opencl-env.sh || exit 1
fi
[ "${SKIP_BUILD:-0}" = 1 ] || dotnet build tests/Stair.Recommender.Tests -c Release -v quiet -nologo >/dev/null || exit 1
echo "soak: $STAIR_SOAK_STEPS steps on $STAIR_SOAK_BACKEND; samples in $STAIR_SOAK_LOG"
dotnet test tests/Stair.Recommender.Tests -c Release --no-build -nologo \
  --filter "FullyQualifiedName~TrainingSoakTests.Memory_stays_flat_over_10000_training_steps_on_synthetic_baby" \
  --logger "console;verbosity=detailed"
status=$?
echo "soak: exit $status; samples in $STAIR_SOAK_LOG"
exit $status
