#!/usr/bin/env bash
# Gives a Debian 12 (bookworm) machine an OpenCL 3.0 CPU device with generic address
# space support, as ILGPU's OpenCL backend requires: PoCL 6.0 built from Debian trixie's
# source package against bookworm's LLVM 15, installed under a private prefix and
# registered through its own ICD folder (OCL_ICD_VENDORS), so Debian's own PoCL 3.1
# (pocl-opencl-icd, no generic address space) is neither needed nor picked up.
#
# Usage:  sudo .ci/setup-opencl.sh [--force] [--verify]
#           --force   rebuild even if a working install is stamped at the prefix
#           --verify  on an existing install, run the device checks again (clinfo +
#                     a kernel that uses the generic address space) instead of exiting
#         then:  source .ci/opencl-env.sh    (or the export line printed at the end)
#
# Settings (environment):
#   POCL_PREFIX        install prefix                       (default /opt/pocl)
#   POCL_BUILD_ROOT    scratch folder for source and build  (default /var/tmp/pocl-build)
#   POCL_JOBS          parallel build jobs                  (default 2)
#   POCL_SOURCE_SUITE  Debian suite to take the source from (default trixie)
#   POCL_APT_MIRROR    mirror URI for the deb-src line      (default: discovered from
#                      this machine's apt sources at run time)
#   POCL_LLC_HOST_CPU  LLVM CPU name for the kernel library (default: LLVM's host CPU, or
#                      x86-64-v4/v3/v2 when LLVM 15 does not know the CPU, e.g. AMD Zen 5)
#   POCL_KEEP_BUILD=1  keep the scratch folder after a successful build
#
# Idempotent: a successful run writes a stamp file into the prefix; later runs that find
# the stamp (same recipe, same CPU vendor/family/model), libpocl.so.2 with all its shared
# libraries, the ICD file and libOpenCL.so exit 0 at once.
#
# Deviations from a plain upstream build, both needed here:
#   -DCMAKE_POSITION_INDEPENDENT_CODE=ON  Debian's patches drop upstream's setting;
#                                         without it libpocl.so fails to link.
#   -DLLC_HOST_CPU=<level>                only when LLVM 15 reports "Host CPU: (unknown)";
#                                         pocl's configure refuses to continue otherwise.
set -Eeuo pipefail

PREFIX=${POCL_PREFIX:-/opt/pocl}
BUILD_ROOT=${POCL_BUILD_ROOT:-/var/tmp/pocl-build}
JOBS=${POCL_JOBS:-2}
SOURCE_SUITE=${POCL_SOURCE_SUITE:-trixie}
LLVM_VERSION=15
LLVM_CONFIG=/usr/bin/llvm-config-${LLVM_VERSION}
# Bump when the build recipe changes, so stamped installs get rebuilt.
RECIPE=1

APT_ETC=/etc/apt

case $PREFIX/ in
  /?*/*) ;;
  *) echo "setup-opencl: POCL_PREFIX must be an absolute path below /, got '$PREFIX'" >&2; exit 2 ;;
esac
case $BUILD_ROOT in
  / | /tmp | /var | /var/tmp | /opt | /usr | /root | /home | "$PREFIX") echo "setup-opencl: refusing POCL_BUILD_ROOT='$BUILD_ROOT' (it is deleted and recreated)" >&2; exit 2 ;;
  /?*) ;;
  *) echo "setup-opencl: POCL_BUILD_ROOT must be an absolute path, got '$BUILD_ROOT'" >&2; exit 2 ;;
esac

VENDORS_DIR=$PREFIX/etc/OpenCL/vendors
ICD_FILE=$VENDORS_DIR/pocl.icd
STAMP=$PREFIX/.setup-opencl.stamp

FORCE=0
VERIFY=0
for arg in "$@"; do
  case $arg in
    --force) FORCE=1 ;;
    --verify) VERIFY=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "setup-opencl: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

# ---------------------------------------------------------------------------------------
# Logging and failure reporting
# ---------------------------------------------------------------------------------------
STEP="start"
STEP_START=$SECONDS
step() {
  STEP=$1
  STEP_START=$SECONDS
  echo
  echo "==> [setup-opencl] $STEP"
}
info() { echo "    $*"; }
step_done() { echo "    done in $((SECONDS - STEP_START)) s"; }
die() {
  echo "setup-opencl: ERROR in step '$STEP': $*" >&2
  exit 1
}
on_err() {
  local rc=$1 line=$2
  echo >&2
  echo "setup-opencl: FAILED in step '$STEP' (exit code $rc, $0 line $line)" >&2
  exit "$rc"
}
trap 'on_err $? $LINENO' ERR

# Runs a command with its output in a log file; on failure shows the log's tail.
run_logged() {
  local log=$1
  shift
  info "\$ $* > $log"
  if ! "$@" >"$log" 2>&1; then
    echo "---- last 60 lines of $log ----" >&2
    tail -n 60 "$log" >&2 || true
    echo "-------------------------------" >&2
    die "command failed: $*  (full log: $log)"
  fi
}

print_env_line() {
  echo
  echo "PoCL OpenCL device ready. Use it with:"
  echo "  export OCL_ICD_VENDORS=$VENDORS_DIR"
  echo "or: source .ci/opencl-env.sh   (also sets POCL_CACHE_DIR)"
}

llc_host_cpu() {
  # What LLVM calls this CPU ("" when LLVM $LLVM_VERSION does not know it, e.g. AMD Zen 4/5).
  if [ -x /usr/bin/llc-$LLVM_VERSION ]; then
    /usr/bin/llc-$LLVM_VERSION --version 2>/dev/null | sed -n 's/^ *Host CPU: *//p' |
      sed 's/^(unknown)$//; s/^generic$//'
  fi
}

cpu_identity() {
  # The kernel library is compiled for this machine's CPU ("native" variant), so a copy of
  # the prefix on another CPU model must be rebuilt: the stamp records this identity.
  awk -F': *' '/^vendor_id/ && !v {v=$2} /^cpu family/ && !f {f=$2} /^model[ \t]*:/ && !m {m=$2}
    END {printf "%s/%s/%s", v, f, m}' /proc/cpuinfo
}

# The CPU name the kernel library is built for: LLVM's own name for the host CPU, or, when
# LLVM $LLVM_VERSION does not recognize it (e.g. AMD Zen 5; pocl's configure then stops
# with "LLVM could not recognize your CPU model"), the highest x86-64 micro-architecture
# level (x86-64-v4/v3/v2) whose features LLVM detects on this host (what
# `clang -march=native` would enable). POCL_LLC_HOST_CPU overrides both.
choose_kernel_cpu() {
  if [ -n "${POCL_LLC_HOST_CPU:-}" ]; then
    echo "$POCL_LLC_HOST_CPU"
    return
  fi
  local cpu
  cpu=$(llc_host_cpu)
  if [ -n "$cpu" ]; then
    echo "$cpu"
    return
  fi
  local feats
  feats=" $(echo 'int x;' | /usr/bin/clang-$LLVM_VERSION -march=native -x c -c - -o /dev/null -### 2>&1 |
    tr ' ' '\n' | sed -n 's/^"+\(.*\)"$/\1/p' | tr '\n' ' ') "
  has() {
    local f
    for f in "$@"; do
      case $feats in *" $f "*) ;; *) return 1 ;; esac
    done
  }
  local v2=(cx16 sahf popcnt sse4.1 sse4.2 ssse3)
  local v3=("${v2[@]}" avx avx2 bmi bmi2 f16c fma lzcnt movbe xsave)
  local v4=("${v3[@]}" avx512f avx512bw avx512cd avx512dq avx512vl)
  if has "${v4[@]}"; then
    echo x86-64-v4
  elif has "${v3[@]}"; then
    echo x86-64-v3
  elif has "${v2[@]}"; then
    echo x86-64-v2
  else
    echo x86-64
  fi
}

libopencl_dev_present() {
  # ILGPU P/Invokes "OpenCL", which .NET resolves as libOpenCL.so (unversioned); only
  # ocl-icd-opencl-dev provides that name.
  ldconfig -p 2>/dev/null | grep -q 'libOpenCL\.so ' ||
    [ -e /usr/lib/x86_64-linux-gnu/libOpenCL.so ]
}

installed_ok() {
  [ -f "$STAMP" ] && [ -e "$PREFIX/lib/libpocl.so.2" ] && [ -f "$ICD_FILE" ] || return 1
  grep -qx "recipe=$RECIPE" "$STAMP" || return 1
  grep -qx "cpu=$(cpu_identity)" "$STAMP" || return 1
  libopencl_dev_present || return 1
  # The LLVM/clang/hwloc shared libraries it was linked against must still be there.
  ! ldd "$PREFIX/lib/libpocl.so.2" 2>/dev/null | grep -q 'not found'
}

# ---------------------------------------------------------------------------------------
# Verification: clinfo lists exactly our platform with an OpenCL >= 2.0 device that has
# generic address space support, and a kernel that needs it builds and runs correctly.
# ---------------------------------------------------------------------------------------
verify_device() {
  step "verify: clinfo with OCL_ICD_VENDORS=$VENDORS_DIR"
  command -v clinfo >/dev/null || die "clinfo is not installed"
  local cache
  cache=$(mktemp -d /tmp/pocl-verify-cache.XXXXXX)
  local out
  out=$(OCL_ICD_VENDORS=$VENDORS_DIR POCL_CACHE_DIR=$cache clinfo 2>&1) ||
    { echo "$out" >&2; die "clinfo failed"; }
  echo "$out" | grep -E '^Number of platforms|^  Platform (Name|Version)|^Number of devices|^  Device (Name|Version|OpenCL C Version|Type)|Generic address space|Max work group size|Preferred work group size multiple|Max compute units|Global memory size|Local memory size' | awk '!seen[$0]++' | sed 's/^/    /'

  local nplat
  nplat=$(echo "$out" | sed -n 's/^Number of platforms *\([0-9][0-9]*\).*/\1/p' | head -n1)
  [ "$nplat" = 1 ] || die "expected exactly 1 OpenCL platform with OCL_ICD_VENDORS set, clinfo reports '${nplat:-none}'"
  echo "$out" | grep -Eq '^  Platform Name +Portable Computing Language' ||
    die "the platform is not PoCL"
  local ver major minor
  ver=$(echo "$out" | sed -n 's/^  Device Version *OpenCL \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' | head -n1)
  [ -n "$ver" ] || die "clinfo lists no device version"
  major=${ver%%.*}
  minor=${ver#*.}
  [ "$major" -ge 2 ] || die "device reports OpenCL $major.$minor, need >= 2.0"
  if [ "$major" -ge 3 ]; then
    # OpenCL 3.0 makes generic address space optional; clinfo prints
    # "Generic address space support  Yes/No" (CL_DEVICE_GENERIC_ADDRESS_SPACE_SUPPORT).
    echo "$out" | grep -Eq '^ +Generic address space support +Yes' ||
      die "device (OpenCL $ver) does not report 'Generic address space support  Yes'"
  fi
  info "OK: 1 platform (PoCL), device OpenCL $ver with generic address space support"
  step_done

  step "verify: build and run a kernel that uses the generic address space"
  command -v gcc >/dev/null || die "gcc is not installed"
  local tdir
  tdir=$(mktemp -d /tmp/pocl-verify.XXXXXX)
  cat >"$tdir/cltest.c" <<'EOF'
#define CL_TARGET_OPENCL_VERSION 300
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>

/* twice() takes an unqualified (generic) pointer and is called with both a __local and
   a __global pointer: this only compiles for devices with generic address space. */
static const char *src =
  "int twice(const int *p, int i) { return 2 * p[i]; }\n"
  "__kernel void k(__global const int *in, __global int *out, __local int *tmp) {\n"
  "  int g = (int)get_global_id(0), l = (int)get_local_id(0), n = (int)get_local_size(0);\n"
  "  tmp[l] = in[g];\n"
  "  barrier(CLK_LOCAL_MEM_FENCE);\n"
  "  out[g] = twice(tmp, n - 1 - l) + twice(in, g);\n"
  "}\n";

#define CHECK(x) do { cl_int e_ = (x); if (e_ != CL_SUCCESS) { \
  fprintf(stderr, "%s failed: %d\n", #x, e_); return 1; } } while (0)

int main(void) {
  enum { N = 1024, L = 64 };
  cl_platform_id pf; cl_device_id dev; cl_int err;
  CHECK(clGetPlatformIDs(1, &pf, NULL));
  CHECK(clGetDeviceIDs(pf, CL_DEVICE_TYPE_ALL, 1, &dev, NULL));
  char name[256]; CHECK(clGetDeviceInfo(dev, CL_DEVICE_NAME, sizeof name, name, NULL));
  cl_context ctx = clCreateContext(NULL, 1, &dev, NULL, NULL, &err); CHECK(err);
  cl_command_queue q = clCreateCommandQueueWithProperties(ctx, dev, NULL, &err); CHECK(err);
  cl_program prog = clCreateProgramWithSource(ctx, 1, &src, NULL, &err); CHECK(err);
  if (clBuildProgram(prog, 1, &dev, "-cl-std=CL3.0", NULL, NULL) != CL_SUCCESS) {
    char log[16384] = {0};
    clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, sizeof log - 1, log, NULL);
    fprintf(stderr, "clBuildProgram failed, build log:\n%s\n", log);
    return 1;
  }
  cl_kernel k = clCreateKernel(prog, "k", &err); CHECK(err);
  int in[N], out[N];
  for (int i = 0; i < N; ++i) in[i] = i * 3 + 1;
  cl_mem bin = clCreateBuffer(ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof in, in, &err); CHECK(err);
  cl_mem bout = clCreateBuffer(ctx, CL_MEM_WRITE_ONLY, sizeof out, NULL, &err); CHECK(err);
  CHECK(clSetKernelArg(k, 0, sizeof bin, &bin));
  CHECK(clSetKernelArg(k, 1, sizeof bout, &bout));
  CHECK(clSetKernelArg(k, 2, L * sizeof(int), NULL));
  size_t gs = N, ls = L;
  CHECK(clEnqueueNDRangeKernel(q, k, 1, NULL, &gs, &ls, 0, NULL, NULL));
  CHECK(clEnqueueReadBuffer(q, bout, CL_TRUE, 0, sizeof out, out, 0, NULL, NULL));
  for (int g = 0; g < N; ++g) {
    int base = g / L * L, l = g % L;
    int want = 2 * in[base + L - 1 - l] + 2 * in[g];
    if (out[g] != want) { fprintf(stderr, "mismatch at %d: %d != %d\n", g, out[g], want); return 1; }
  }
  printf("kernel OK on '%s': %d work-items, groups of %d, __local + generic pointers\n", name, N, L);
  return 0;
}
EOF
  run_logged "$tdir/gcc.log" gcc -O1 -Wall -o "$tdir/cltest" "$tdir/cltest.c" -lOpenCL
  local kout
  kout=$(OCL_ICD_VENDORS=$VENDORS_DIR POCL_CACHE_DIR=$cache "$tdir/cltest" 2>&1) ||
    { echo "$kout" >&2; die "the OpenCL kernel test failed"; }
  info "$kout"
  rm -rf "$tdir" "$cache"
  step_done
}

# ---------------------------------------------------------------------------------------
# Fast path
# ---------------------------------------------------------------------------------------
if [ "$FORCE" = 0 ] && installed_ok; then
  echo "[setup-opencl] PoCL already installed at $PREFIX ($(sed -n 's/^pocl_version=//p' "$STAMP")); nothing to do."
  if [ "$VERIFY" = 1 ]; then
    verify_device
  fi
  print_env_line
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then
    echo "[setup-opencl] not root; re-running under sudo"
    exec sudo --preserve-env=POCL_PREFIX,POCL_BUILD_ROOT,POCL_JOBS,POCL_SOURCE_SUITE,POCL_APT_MIRROR,POCL_LLC_HOST_CPU,POCL_KEEP_BUILD bash "$0" "$@"
  fi
  STEP="privileges"
  die "must run as root (apt-get install, install into $PREFIX) and sudo is not available"
fi

TOTAL_START=$SECONDS
LOG_DIR=$BUILD_ROOT/logs
# One run at a time.
exec 9>/var/lock/setup-opencl.lock
if ! flock -n 9; then
  echo "[setup-opencl] another setup-opencl run holds /var/lock/setup-opencl.lock; waiting"
  flock 9
  if [ "$FORCE" = 0 ] && installed_ok; then
    echo "[setup-opencl] the other run installed PoCL at $PREFIX"
    print_env_line
    exit 0
  fi
fi

# ---------------------------------------------------------------------------------------
step "check platform"
# shellcheck disable=SC1091
. /etc/os-release
info "OS: ${PRETTY_NAME:-unknown}, arch $(dpkg --print-architecture)"
[ "${ID:-}" = debian ] || die "this script targets Debian (found ID=${ID:-?})"
[ "${VERSION_CODENAME:-}" = bookworm ] ||
  info "WARNING: written for bookworm, found '${VERSION_CODENAME:-?}'; continuing"
CODENAME=${VERSION_CODENAME:-bookworm}
[ -n "${SOURCE_SUITE}" ] || die "POCL_SOURCE_SUITE is empty"
info "scratch folder: $BUILD_ROOT (logs in $LOG_DIR)"
rm -rf "$BUILD_ROOT"
mkdir -p "$LOG_DIR"
# Work inside the scratch folder: pocl's configure checks drop compile_test_* files into
# the current directory, which must not be the repository.
cd "$BUILD_ROOT"

# ---------------------------------------------------------------------------------------
step "install build and runtime packages from Debian"
PACKAGES=(
  build-essential cmake pkg-config python3 dpkg-dev xz-utils
  clang-$LLVM_VERSION llvm-$LLVM_VERSION-dev libclang-$LLVM_VERSION-dev
  libclang-cpp$LLVM_VERSION-dev
  libhwloc-dev ocl-icd-dev ocl-icd-opencl-dev opencl-c-headers
  zlib1g-dev libzstd-dev libxml2-dev libtinfo-dev libedit-dev
  clinfo
)
missing=()
for p in "${PACKAGES[@]}"; do
  if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != installed ]; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  info "missing: ${missing[*]}"
  run_logged "$LOG_DIR/apt-update.log" apt-get update
  # --no-install-recommends keeps Debian's pocl-opencl-icd (PoCL 3.1) out.
  run_logged "$LOG_DIR/apt-install.log" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
else
  info "all ${#PACKAGES[@]} packages already installed"
fi
[ -x "$LLVM_CONFIG" ] || die "$LLVM_CONFIG not found after installing llvm-$LLVM_VERSION-dev"
KERNEL_CPU=$(choose_kernel_cpu)
LLC_CPU=$(llc_host_cpu)
info "LLVM $("$LLVM_CONFIG" --version); CPU $(cpu_identity) ($(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))"
if [ -n "$LLC_CPU" ] && [ "$KERNEL_CPU" = "$LLC_CPU" ]; then
  info "kernel library CPU: $KERNEL_CPU (LLVM's host CPU)"
else
  info "kernel library CPU: $KERNEL_CPU (LLVM $LLVM_VERSION reports host CPU '${LLC_CPU:-unknown}'; passing -DLLC_HOST_CPU=$KERNEL_CPU)"
fi
if [ "$(dpkg-query -W -f='${db:Status-Status}' pocl-opencl-icd 2>/dev/null || true)" = installed ]; then
  info "NOTE: Debian's pocl-opencl-icd is installed; it is ignored whenever OCL_ICD_VENDORS=$VENDORS_DIR is set"
fi
step_done

# ---------------------------------------------------------------------------------------
step "discover the Debian mirror from this machine's apt sources"
# Prints "uri<TAB>signed-by" for every enabled deb/deb-src entry that has the release's
# own suite (e.g. "bookworm", not "bookworm-security") and component main, one-line
# sources.list format and deb822 .sources format alike.
list_mirrors() {
  local f
  for f in "$APT_ETC/sources.list" "$APT_ETC"/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v suite="$CODENAME" '
      { sub(/#.*/, "") }
      $1 == "deb" || $1 == "deb-src" {
        line = $0; opts = ""
        if (match(line, /\[[^]]*\]/)) { opts = substr(line, RSTART + 1, RLENGTH - 2); line = substr(line, 1, RSTART - 1) substr(line, RSTART + RLENGTH) }
        n = split(line, w, /[ \t]+/); i = 1; while (w[i] == "") i++
        uri = w[i + 1]; s = w[i + 2]; main = 0
        for (j = i + 3; j <= n; j++) if (w[j] == "main") main = 1
        sb = ""
        if (match(opts, /signed-by=[^ \t]+/)) sb = substr(opts, RSTART + 10, RLENGTH - 10)
        if (s == suite && main && uri !~ /^cdrom:/) print uri "\t" sb
      }' "$f"
  done
  for f in "$APT_ETC"/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$CODENAME" '
      function flush(   n, u, s, c, i, j, k, ok, main) {
        if (types != "" && tolower(enabled) != "no") {
          ok = 0; n = split(types, t, /[ \t]+/); for (i = 1; i <= n; i++) if (t[i] == "deb" || t[i] == "deb-src") ok = 1
          main = 0; n = split(comps, c, /[ \t]+/); for (i = 1; i <= n; i++) if (c[i] == "main") main = 1
          hassuite = 0; n = split(suites, s, /[ \t]+/); for (i = 1; i <= n; i++) if (s[i] == suite) hassuite = 1
          if (ok && main && hassuite) {
            n = split(uris, u, /[ \t]+/)
            for (i = 1; i <= n; i++) if (u[i] != "" && u[i] !~ /^cdrom:/) print u[i] "\t" (signedby ~ /^\// ? signedby : "")
          }
        }
        types = uris = suites = comps = enabled = signedby = ""; last = ""
      }
      /^#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]/ { if (last == "uris") uris = uris " " $0; else if (last == "suites") suites = suites " " $0; else if (last == "components") comps = comps " " $0; next }
      {
        key = tolower(substr($0, 1, index($0, ":") - 1)); val = substr($0, index($0, ":") + 1)
        gsub(/^[ \t]+|[ \t]+$/, "", val); last = key
        if (key == "types") types = val; else if (key == "uris") uris = val
        else if (key == "suites") suites = val; else if (key == "components") comps = val
        else if (key == "enabled") enabled = val; else if (key == "signed-by") signedby = val
      }
      END { flush() }' "$f"
  done
}
if [ -n "${POCL_APT_MIRROR:-}" ]; then
  MIRROR=$POCL_APT_MIRROR
  SIGNED_BY=""
  info "using POCL_APT_MIRROR=$MIRROR"
else
  mirror_line=$(list_mirrors | head -n1)
  [ -n "$mirror_line" ] ||
    die "no enabled 'deb' entry for suite '$CODENAME' with component main in /etc/apt/sources.list{,.d/*.list,.d/*.sources}; set POCL_APT_MIRROR"
  MIRROR=${mirror_line%%$'\t'*}
  SIGNED_BY=${mirror_line#*$'\t'}
  info "mirror: $MIRROR${SIGNED_BY:+ (signed-by $SIGNED_BY)}"
fi
step_done

# ---------------------------------------------------------------------------------------
step "download the pocl source package from $SOURCE_SUITE (isolated apt configuration)"
APT_DIR=$BUILD_ROOT/apt
SRC_DL=$BUILD_ROOT/download
mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/sources.list.d" "$APT_DIR/cache/archives/partial" "$SRC_DL"
opts=""
[ -n "$SIGNED_BY" ] && opts="[signed-by=$SIGNED_BY] "
echo "deb-src ${opts}${MIRROR%/} $SOURCE_SUITE main" >"$APT_DIR/sources.list"
info "temporary sources.list: $(cat "$APT_DIR/sources.list")"
APT_OPTS=(
  -o "Dir::Etc::SourceList=$APT_DIR/sources.list"
  -o "Dir::Etc::SourceParts=$APT_DIR/sources.list.d"
  -o "Dir::State::Lists=$APT_DIR/lists"
  -o "Dir::Cache=$APT_DIR/cache"
  -o "Dir::Cache::pkgcache="
  -o "Dir::Cache::srcpkgcache="
  -o "APT::Sandbox::User=root"
)
run_logged "$LOG_DIR/apt-src-update.log" apt-get "${APT_OPTS[@]}" update
(cd "$SRC_DL" && run_logged "$LOG_DIR/apt-source.log" \
  apt-get "${APT_OPTS[@]}" source --download-only --only-source pocl)
DSC=$(ls "$SRC_DL"/pocl_*.dsc 2>/dev/null | head -n1)
[ -n "$DSC" ] || die "apt-get source left no pocl_*.dsc in $SRC_DL"
POCL_DEB_VERSION=$(sed -n 's/^Version: *//p' "$DSC" | head -n1)
POCL_UPSTREAM=${POCL_DEB_VERSION#*:}
POCL_UPSTREAM=${POCL_UPSTREAM%-*}
info "got $(basename "$DSC"): pocl $POCL_DEB_VERSION"
case $POCL_UPSTREAM in
  6.0*) ;;
  *) die "expected PoCL 6.0 from $SOURCE_SUITE (supports LLVM $LLVM_VERSION), got $POCL_UPSTREAM" ;;
esac
step_done

# ---------------------------------------------------------------------------------------
step "unpack the source (dpkg-source -x: upstream tarball + Debian patches)"
SRC_DIR=$BUILD_ROOT/src
# apt verified the files against the signed Release/Sources; dpkg-source re-checks their
# hashes against the .dsc (the .dsc signature itself cannot be checked without
# debian-keyring, which is only a warning).
run_logged "$LOG_DIR/dpkg-source.log" dpkg-source -x "$DSC" "$SRC_DIR"
[ -f "$SRC_DIR/CMakeLists.txt" ] || die "no CMakeLists.txt in $SRC_DIR"
step_done

# ---------------------------------------------------------------------------------------
step "configure (cmake, LLVM $LLVM_VERSION, kernel library for the native CPU)"
BUILD_DIR=$BUILD_ROOT/build
mkdir -p "$BUILD_DIR"
# Debian's blhc.patch drops upstream's CMAKE_POSITION_INDEPENDENT_CODE=ON (Debian's own
# build gets -fPIC from -DHARDENING_ENABLE=ON instead); without one of the two the object
# libraries linked into libpocl.so are built as PIE and the link fails with
# "relocation R_X86_64_PC32 ... recompile with -fPIC". Restore upstream's setting.
LLC_CPU_ARG=()
if [ -z "$LLC_CPU" ] || [ "$KERNEL_CPU" != "$LLC_CPU" ]; then
  LLC_CPU_ARG=("-DLLC_HOST_CPU=$KERNEL_CPU")
fi
run_logged "$LOG_DIR/cmake-configure.log" cmake -S "$SRC_DIR" -B "$BUILD_DIR" \
  -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX="$PREFIX" \
  -DWITH_LLVM_CONFIG="$LLVM_CONFIG" \
  -DENABLE_ICD=ON \
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
  -DKERNELLIB_HOST_CPU_VARIANTS=native \
  ${LLC_CPU_ARG[@]+"${LLC_CPU_ARG[@]}"} \
  -DENABLE_TESTS=OFF \
  -DENABLE_EXAMPLES=OFF \
  -DENABLE_POCLCC=OFF
grep -E 'LLVM_VERSION:|HOST_CPU|OCL_KERNEL_TARGET|Kernel library CPU variants|ENABLE_ICD|Enabled drivers|OPENCL_(C_)?VERSION|OpenCL version|Build files have been' "$LOG_DIR/cmake-configure.log" |
  head -n 30 | sed 's/^/    | /' || true
step_done

# ---------------------------------------------------------------------------------------
step "build with $JOBS jobs (about 4-6 minutes on 2 cores)"
run_logged "$LOG_DIR/build.log" cmake --build "$BUILD_DIR" --parallel "$JOBS"
step_done

# ---------------------------------------------------------------------------------------
step "install into $PREFIX"
rm -f "$STAMP"
run_logged "$LOG_DIR/install.log" cmake --install "$BUILD_DIR"
[ -e "$PREFIX/lib/libpocl.so.2" ] || die "$PREFIX/lib/libpocl.so.2 missing after install"
ls "$PREFIX"/share/pocl/kernel-*.bc >/dev/null 2>&1 ||
  die "no kernel library ($PREFIX/share/pocl/kernel-*.bc) installed; kernels would fail to build"
info "kernel libraries: $(cd "$PREFIX/share/pocl" && ls kernel-*.bc | tr '\n' ' ')"
if ldd "$PREFIX/lib/libpocl.so.2" | grep 'not found'; then
  die "libpocl.so.2 has unresolved shared libraries"
fi
step_done

# ---------------------------------------------------------------------------------------
step "register the ICD in $VENDORS_DIR"
mkdir -p "$VENDORS_DIR"
# Only our pocl.icd may live here: OCL_ICD_VENDORS makes the loader read this folder
# instead of /etc/OpenCL/vendors.
find "$VENDORS_DIR" -maxdepth 1 -name '*.icd' ! -name pocl.icd -print -delete
echo "$PREFIX/lib/libpocl.so.2" >"$ICD_FILE"
info "$ICD_FILE -> $(cat "$ICD_FILE")"
step_done

verify_device

step "write stamp $STAMP"
{
  echo "recipe=$RECIPE"
  echo "pocl_version=$POCL_DEB_VERSION"
  echo "llvm=$("$LLVM_CONFIG" --version)"
  echo "cpu=$(cpu_identity)"
  echo "kernel_cpu=$KERNEL_CPU"
  echo "mirror=$MIRROR suite=$SOURCE_SUITE"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$STAMP"
sed 's/^/    /' "$STAMP"
if [ "${POCL_KEEP_BUILD:-0}" = 1 ]; then
  info "keeping $BUILD_ROOT (POCL_KEEP_BUILD=1)"
else
  cd /
  rm -rf "$BUILD_ROOT"
  info "removed $BUILD_ROOT"
fi
step_done

echo
echo "[setup-opencl] finished in $((SECONDS - TOTAL_START)) s"
print_env_line
