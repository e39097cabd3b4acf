# Source this file (bash/sh) after .ci/setup-opencl.sh to point the OpenCL ICD loader at
# the private PoCL build only:
#     . .ci/opencl-env.sh
# Sets:
#   OCL_ICD_VENDORS  the folder holding only PoCL's pocl.icd, so ocl-icd ignores
#                    /etc/OpenCL/vendors (e.g. Debian's PoCL 3.1, which lacks the generic
#                    address space ILGPU needs)
#   POCL_CACHE_DIR   a writable kernel-cache folder (kept if already set)
# Run directly (bash .ci/opencl-env.sh) it prints the export lines instead, for eval.
# It does not change the calling shell's options; if PoCL is missing it says so and
# returns 1.

_pocl_prefix=${POCL_PREFIX:-/opt/pocl}
_pocl_vendors=$_pocl_prefix/etc/OpenCL/vendors

if [ ! -f "$_pocl_vendors/pocl.icd" ] || [ ! -e "$_pocl_prefix/lib/libpocl.so.2" ]; then
  echo "opencl-env: no PoCL install at $_pocl_prefix (run .ci/setup-opencl.sh first)" >&2
  unset _pocl_prefix _pocl_vendors
  return 1 2>/dev/null || exit 1
fi

if [ -z "${POCL_CACHE_DIR:-}" ]; then
  _pocl_cache=${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/pocl/kcache
  if ! mkdir -p "$_pocl_cache" 2>/dev/null || [ ! -w "$_pocl_cache" ]; then
    _pocl_cache=${TMPDIR:-/tmp}/pocl-kcache-$(id -u)
    mkdir -p "$_pocl_cache"
  fi
  POCL_CACHE_DIR=$_pocl_cache
fi

OCL_ICD_VENDORS=$_pocl_vendors
export OCL_ICD_VENDORS POCL_CACHE_DIR
unset _pocl_prefix _pocl_vendors _pocl_cache

if [ -n "${BASH_VERSION:-}" ] && [ "${BASH_SOURCE[0]}" = "$0" ]; then
  echo "export OCL_ICD_VENDORS=$OCL_ICD_VENDORS"
  echo "export POCL_CACHE_DIR=$POCL_CACHE_DIR"
fi
