#!/usr/bin/env bash
# The main job (README): every kernel on every backend and SIMD tier this machine has,
# against float64. Uses the PoCL OpenCL device that scripts/test.sh sets up, if present.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .ci/opencl-env.sh ]; then
  # shellcheck source=/dev/null
  source .ci/opencl-env.sh 2>/dev/null || true
fi
exec dotnet run -c Release --project src/Stair.Kernels.Cli -- validate "$@"
