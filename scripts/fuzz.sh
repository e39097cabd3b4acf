#!/usr/bin/env bash
# Coverage-guided fuzzing of one target with SharpFuzz and AFL++ (kernels.md, section "Reliability", has the figures):
#   bash scripts/fuzz.sh TARGET MINUTES      TARGET: npy, npz, inter, items, csr or cli
# Installs afl++ (Debian) when afl-fuzz is missing, builds fuzz/Stair.Kernels.Fuzz, instruments the
# library assemblies with sharpfuzz (the local tool in dotnet-tools.json), fuzzes for MINUTES on one
# core starting from code-generated seeds plus fuzz/corpus/TARGET, then minimizes the queue with afl-cmin
# into fuzz/corpus/TARGET and prints executions, crashes and hangs. Work files: fuzz/out/ (ignored).
# FUZZ_REUSE_BUILD=1 reuses the instrumented build of an earlier run (several targets in a row).
# Exit status 1 when afl-fuzz saved a crash or a hang (the inputs are kept in fuzz/out/TARGET/findings).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS="npy npz inter items csr cli"
TARGET="${1:-}"
MINUTES="${2:-}"
if [[ -z "$TARGET" || -z "$MINUTES" || " $TARGETS " != *" $TARGET "* || ! "$MINUTES" =~ ^[0-9]+$ ]]; then
  echo "usage: scripts/fuzz.sh TARGET MINUTES   (TARGET: ${TARGETS// /, })" >&2
  exit 2
fi

if ! command -v afl-fuzz >/dev/null; then
  SUDO=""; [ "$(id -u)" != 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq afl++ >/dev/null
fi

OUT=fuzz/out
BIN="$OUT/bin"
WORK="$OUT/$TARGET"
CORPUS="fuzz/corpus/$TARGET"

rm -rf "$WORK"
mkdir -p "$WORK/in" "$CORPUS"
# A fresh publish each time (sharpfuzz refuses an assembly it has already instrumented), unless
# FUZZ_REUSE_BUILD=1 and an instrumented build from an earlier run is there (running targets one after another).
if [ "${FUZZ_REUSE_BUILD:-0}" != 1 ] || [ ! -f "$BIN/instrumented" ]; then
  dotnet tool restore >/dev/null
  rm -rf "$BIN" "$OUT/seeds"
  dotnet publish fuzz/Stair.Kernels.Fuzz -c Release -o "$BIN" -nologo >"$WORK/build.log" 2>&1 || { tail -n 30 "$WORK/build.log" >&2; exit 1; }
  # Seeds come from the binary before instrumentation (instrumented code needs afl-fuzz's shared memory).
  dotnet "$BIN/Stair.Kernels.Fuzz.dll" seeds "$OUT/seeds"
  # The code under test, plus the two libraries it parses with (System.CommandLine for cli, Sep for inter).
  for dll in Stair.Kernels.dll Stair.Kernels.IO.dll Stair.Recommender.dll stair-kernels.dll System.CommandLine.dll Sep.dll; do
    dotnet sharpfuzz "$BIN/$dll" >/dev/null
  done
  touch "$BIN/instrumented"
fi
cp "$OUT/seeds/$TARGET/"* "$WORK/in/"
if compgen -G "$CORPUS/*" >/dev/null; then cp "$CORPUS/"* "$WORK/in/"; fi


# dotnet is not an AFL-instrumented binary (the instrumented code is in the assemblies): skip that check.
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1
export AFL_FORKSRV_INIT_TMOUT=60000 DOTNET_TieredPGO=0
# -t: a run over 5 s is a hang; -m none: the runtime reserves far more address space than it uses.
afl-fuzz -i "$WORK/in" -o "$WORK/findings" -t 5000 -m none -V "$((MINUTES * 60))" \
  -- dotnet "$BIN/Stair.Kernels.Fuzz.dll" "$TARGET" >"$WORK/afl-fuzz.log" 2>&1 || {
  tail -n 30 "$WORK/afl-fuzz.log" >&2
  exit 1
}

STATS="$WORK/findings/default/fuzzer_stats"
stat() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$STATS"; }
EXECS=$(stat execs_done)
SECONDS_RUN=$(stat run_time)
CRASHES=$(stat saved_crashes)
HANGS=$(stat saved_hangs)

# The queue, minimized to the inputs that keep its coverage, becomes the committed corpus.
rm -rf "$WORK/cmin"
afl-cmin -i "$WORK/findings/default/queue" -o "$WORK/cmin" -t 5000 -m none \
  -- "$(command -v dotnet)" "$BIN/Stair.Kernels.Fuzz.dll" "$TARGET" >"$WORK/afl-cmin.log" 2>&1 || {
  tail -n 30 "$WORK/afl-cmin.log" >&2
  exit 1
}
rm -rf "$CORPUS"
mkdir -p "$CORPUS"
# Short content-hash names: stable across runs, free of the characters AFL puts in queue names.
for f in "$WORK/cmin/"*; do
  cp "$f" "$CORPUS/$(sha1sum "$f" | cut -c1-16)"
done
FILES=$(find "$CORPUS" -type f | wc -l)
BYTES=$(du -sb "$CORPUS" | cut -f1)

printf '%s: %s executions in %s s (%s exec/s), %s crashes, %s hangs; corpus %s files, %s bytes in %s\n' \
  "$TARGET" "$EXECS" "$SECONDS_RUN" "$((EXECS / (SECONDS_RUN > 0 ? SECONDS_RUN : 1)))" "$CRASHES" "$HANGS" "$FILES" "$BYTES" "$CORPUS" \
  | tee "$WORK/summary.txt"
[ "$CRASHES" = 0 ] && [ "$HANGS" = 0 ]
