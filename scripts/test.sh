#!/usr/bin/env bash
# The test command (README, and what .ci/run calls): makes sure an OpenCL 2.0+ device with
# generic address space exists (builds PoCL 6 once per machine when none does, ~4 minutes
# on 2 cores; needs root and apt), points the OpenCL loader at it, then runs every test.
# OpenCL tests must run, not skip: STAIR_REQUIRE_OPENCL=1 turns a missing device into failures.
# Set STAIR_SKIP_OPENCL_SETUP=1 to use whatever OpenCL the machine already has.
# It also installs Debian's MPICH (seconds) so the distributed tests run real mpiexec jobs, and sets
# STAIR_REQUIRE_MPI=1 so a missing MPI fails them; STAIR_SKIP_MPI_SETUP=1 skips that step.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${STAIR_SKIP_OPENCL_SETUP:-0}" != 1 ]; then
  bash .ci/setup-opencl.sh
  # shellcheck source=/dev/null
  source .ci/opencl-env.sh
  export STAIR_REQUIRE_OPENCL=1
fi

if [ "${STAIR_SKIP_MPI_SETUP:-0}" != 1 ]; then
  bash .ci/setup-mpi.sh
  export STAIR_REQUIRE_MPI=1
fi

dotnet test Kernels.sln -c Release "$@"
