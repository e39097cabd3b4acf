#!/usr/bin/env bash
# Gives a Debian machine MPI for the distributed tests: Debian's MPICH (mpiexec, libmpich.so.12;
# MPICH 4.0.2 on bookworm). Idempotent: exits at once when both are already there.
# Usage: .ci/setup-mpi.sh   (as root, or with sudo available)
set -euo pipefail
have() { command -v mpiexec >/dev/null 2>&1 && ldconfig -p 2>/dev/null | grep -q 'libmpich\.so\.12'; }
if have; then
  echo "==> [setup-mpi] MPICH present: $(mpiexec --version 2>/dev/null | grep -m1 -i version || echo mpiexec)"
  exit 0
fi
SUDO=
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "setup-mpi: must run as root (apt-get install mpich libmpich-dev) and sudo is not available" >&2; exit 1; }
  SUDO=sudo
fi
echo "==> [setup-mpi] apt-get install mpich libmpich-dev"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends mpich libmpich-dev >/dev/null
have || { echo "setup-mpi: mpich installed but mpiexec or libmpich.so.12 is still missing" >&2; exit 1; }
echo "==> [setup-mpi] MPICH ready: $(mpiexec --version 2>/dev/null | grep -m1 -i version || echo mpiexec)"
