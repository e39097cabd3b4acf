#!/usr/bin/env bash
# The GPU check: CUDA devices, correctness (validate against float64, the device tests) and CUDA benchmarks
# on a machine that has an NVIDIA driver but no .NET, no network and a few minutes. Two halves:
#
#   scripts/gpu-check.sh prepare [ARCHIVE]   # here, with the SDK: self-contained linux-x64 publishes of the
#                                            # CLI, the benchmarks and the test suite sharing one runtime,
#                                            # packed as ARCHIVE (default artifacts/gpu-check.tar.xz, <= 64 MiB)
#   scripts/gpu-check.sh run OUT [ARCHIVE]   # on the GPU machine, from the repository root: unpacks and runs
#                                            # every step below under its own timeout; writes <= 8 files to OUT
#
# prepare builds in a scratch copy of the working tree (tracked and untracked-but-not-ignored files), so it
# never touches the tree's bin/ and obj/ (a `dotnet test` may be using them) and the archive holds what the
# tree holds. -p:StairTextEncoder=false leaves MiniLM out (its 91 MB model and ONNX Runtime would not fit);
# the GPU check never embeds text.
#
# run's steps, each writing its log into OUT as it goes (a kill leaves what was written), with timeouts
# adding up to 410 s (plus unpacking and packing, about 7 minutes in all):
#   nvidia-smi 15 s; stair-kernels devices 45 s; stair-kernels validate --backend cuda 75 s (both with
#   STAIR_TRACE=1); the device tests with STAIR_REQUIRE_CUDA=1 105 s; the benchmark report (quick, one round,
#   CUDA beside the CPU tiers and baselines) 170 s.
# OUT gets: summary.txt (each step's exit code, time-out flag and tail), nvidia-smi.txt, devices.txt,
# validate-cuda.txt, tests.txt, benchmarks.txt (the report's log), report.md, results.tar.gz (all of it: logs and
# the report folder with report.json, charts and BenchmarkDotNet's artifacts).
# Every step always runs; the exit code is non-zero when any failed or timed out, when a CUDA test skipped
# or when the report has no CUDA row.
set -euo pipefail
caller=$PWD
# Paths given on the command line are the caller's; the script works from the repository root.
from_caller() { case "$1" in /*) echo "$1" ;; *) echo "$caller/$1" ;; esac; }
cd "$(dirname "$0")/.."
limit=$((64 * 1024 * 1024))

case "${1:-}" in
  prepare)
    archive=$( [ -n "${2:-}" ] && from_caller "$2" || echo "$PWD/artifacts/gpu-check.tar.xz")
    mkdir -p "$(dirname "$archive")"
    archive=$(cd "$(dirname "$archive")" && pwd)/$(basename "$archive")
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/stair-gpu-check.XXXXXX")
    trap 'rm -rf "$scratch"' EXIT
    if git rev-parse --is-inside-work-tree > /dev/null 2>&1; then
      git ls-files -co --exclude-standard -z | tar --null --ignore-failed-read -T - -cf - | tar -C "$scratch" -xf -
    else # not a git checkout: everything but build outputs
      tar --exclude=./.git --exclude='*/bin' --exclude='*/obj' --exclude=./artifacts -cf - . | tar -C "$scratch" -xf -
    fi
    mkdir -p "$scratch/stage"
    # One set of global properties for all three, so the libraries they share are built once, bit-identical.
    for project in src/Stair.Kernels.Cli bench/Stair.Kernels.Benchmarks tests/Stair.Kernels.Tests; do
      name=$(basename "$project")
      dotnet publish "$scratch/$project" -c Release -r linux-x64 --self-contained true -nologo \
        --disable-build-servers -nodeReuse:false \
        -p:UseAppHost=true -p:PublishTrimmed=false -p:DebugType=none -p:GenerateDocumentationFile=false \
        -p:StairTextEncoder=false -o "$scratch/stage/$name"
    done
    # The test SDK's code-coverage collector (Windows/macOS/arm64 binaries) serves only vstest.
    rm -rf "$scratch/stage/Stair.Kernels.Tests/CodeCoverage"
    # One folder, one runtime: a file two publishes both hold must be the same file.
    bin="$scratch/gpu-check"
    mkdir -p "$bin"
    conflicts=0
    for name in Stair.Kernels.Cli Stair.Kernels.Benchmarks Stair.Kernels.Tests; do
      while IFS= read -r -d '' file; do
        relative=${file#"$scratch/stage/$name/"}
        if [ -e "$bin/$relative" ]; then
          if ! cmp -s "$file" "$bin/$relative"; then
            echo "error: $name's $relative differs from an earlier publish's" >&2
            conflicts=$((conflicts + 1))
          fi
        else
          mkdir -p "$(dirname "$bin/$relative")"
          cp -p "$file" "$bin/$relative"
        fi
      done < <(find "$scratch/stage/$name" -type f -print0)
    done
    [ "$conflicts" -eq 0 ] || { echo "error: $conflicts files differ between the publishes; they cannot share a folder" >&2; exit 1; }
    for app in stair-kernels Stair.Kernels.Benchmarks Stair.Kernels.Tests; do
      [ -x "$bin/$app" ] || { echo "error: the archive would lack $app" >&2; exit 1; }
    done
    tar -C "$scratch" -cf - gpu-check | xz -T0 -7 > "$archive.partial"
    size=$(stat -c %s "$archive.partial")
    echo "archive: $archive: $size bytes ($((size / 1024 / 1024)) MiB; unpacked $(du -sm "$bin" | cut -f1) MiB; limit 64 MiB)"
    if [ "$size" -gt "$limit" ]; then
      rm -f "$archive.partial"
      echo "error: the archive is larger than 64 MiB" >&2
      exit 1
    fi
    mv "$archive.partial" "$archive"
    echo "carry $archive and scripts/gpu-check.sh; there: bash scripts/gpu-check.sh run OUT"
    ;;

  run)
    out=$(from_caller "${2:?usage: scripts/gpu-check.sh run OUT [ARCHIVE]}")
    archive=$( [ -n "${3:-}" ] && from_caller "$3" || echo "$PWD/artifacts/gpu-check.tar.xz")
    mkdir -p "$out"
    out=$(cd "$out" && pwd)
    work=$(mktemp -d "${TMPDIR:-/tmp}/stair-gpu-run.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    summary="$out/summary.txt"
    {
      echo "gpu-check run, $(date -u +%Y-%m-%dT%H:%M:%SZ), host $(uname -n), $(uname -srm)"
      echo "archive: $archive ($(stat -c %s "$archive" 2>/dev/null || echo missing) bytes)"
    } > "$summary"
    unpacked=0
    if command -v xz > /dev/null; then
      tar -C "$work" -xJf "$archive" >> "$summary" 2>&1 && unpacked=1
    else # no xz on the machine: Python's tarfile reads it
      python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$archive" "$work" >> "$summary" 2>&1 && unpacked=1
    fi
    if [ "$unpacked" -ne 1 ]; then
      echo "error: could not unpack $archive (prepare it here: bash scripts/gpu-check.sh prepare)" | tee -a "$summary" >&2
      exit 1
    fi
    bin="$work/gpu-check"
    mkdir -p "$work/logs"
    failed=0

    # step NAME LOG SECONDS COMMAND...: runs COMMAND under its own timeout, its output going to LOG as it
    # comes; appends the exit code, the time-out flag and the log's tail to the summary.
    step() {
      local name=$1 log=$2 seconds=$3 status=0 started
      shift 3
      started=$(date +%s)
      echo "\$ $*" >> "$log"
      timeout -k 5 "$seconds" "$@" >> "$log" 2>&1 || status=$?
      local timed_out=no
      if [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then timed_out=yes; fi
      [ "$status" -eq 0 ] || failed=1
      {
        echo
        echo "== $name: exit $status, timed out: $timed_out (limit ${seconds} s, took $(($(date +%s) - started)) s), log $(basename "$log")"
        tail -n 25 "$log"
      } >> "$summary"
    }

    if command -v nvidia-smi > /dev/null; then
      step nvidia-smi "$out/nvidia-smi.txt" 15 nvidia-smi
    else
      echo "no nvidia-smi on PATH" > "$out/nvidia-smi.txt"
      printf '\n== nvidia-smi: not on PATH (not counted as a failure)\n' >> "$summary"
    fi
    step devices "$out/devices.txt" 45 env STAIR_TRACE=1 "$bin/stair-kernels" devices
    step validate-cuda "$out/validate-cuda.txt" 75 env STAIR_TRACE=1 "$bin/stair-kernels" validate --backend cuda --repeat 20
    # The device tests: every test class that runs a backend, and the CUDA variant of the golden bits.
    # STAIR_GOLDEN_NEW: the CUDA variant of the golden bits has no recorded lines yet; its bits land in the logs.
    step device-tests "$out/tests.txt" 105 env STAIR_REQUIRE_CUDA=1 STAIR_GOLDEN_NEW="$work/logs/golden-bits.cuda.txt" "$bin/Stair.Kernels.Tests" \
      --filter 'Stair.Kernels.Tests.Backends.*' \
      --filter '*.BackendBprLossTests.*' --filter '*.BackendEmbeddingUpdateTests.*' --filter '*.BackendRankingTests.*' \
      --filter '*.DenseBackendTests.*' --filter '*.KnnGraphBackendTests.*' \
      --filter '*.WhiteningEdgeCaseTests.EveryBackendAgreesWithTheCpu(*' \
      --filter '*.GoldenBitsTests.*(variant: "cuda")'
    # With STAIR_REQUIRE_CUDA=1 no CUDA test may skip, whether or not the suite itself enforces it.
    cuda_skips=$(grep -cE '^\[skip\] .*([Cc]uda|"cuda")' "$out/tests.txt" || true)
    if [ "$cuda_skips" -gt 0 ]; then
      failed=1
      echo "== device-tests: FAILED, $cuda_skips CUDA tests skipped (grep '^\[skip\]' tests.txt)" >> "$summary"
    fi
    # The CUDA benchmarks: the benchmark report (the same format as a run here, so a GPU run drops into the
    # same tables) over the Baby shapes, CUDA beside the best CPU tier and the baselines, one round.
    step report "$out/benchmarks.txt" 170 "$bin/Stair.Kernels.Benchmarks" report --mode quick --rounds 1 \
      --backend cuda,avx512,avx2,scalar,naive,c-ref --out "$work/report"
    if [ -f "$work/report/report.md" ]; then
      cp "$work/report/report.md" "$out/report.md"
      grep -q '| cuda |' "$work/report/report.md" || { failed=1; echo "== report: FAILED, no CUDA row in report.md" >> "$summary"; }
    else
      failed=1
      echo "== report: FAILED, no report.md was written" >> "$summary"
    fi

    echo >> "$summary"
    echo "overall: $([ "$failed" -eq 0 ] && echo "every step passed" || echo "at least one step failed or timed out")" >> "$summary"
    cp "$out"/*.txt "$work/logs/"
    tar -C "$work" -czf "$out/results.tar.gz" logs $( [ -d "$work/report" ] && echo report )
    cat "$summary"
    exit "$failed"
    ;;

  *)
    echo "usage: scripts/gpu-check.sh prepare [ARCHIVE] | run OUT [ARCHIVE]" >&2
    exit 2
    ;;
esac
