#!/usr/bin/env bash
# The GPU check: CUDA correctness (validate against float64) and CUDA benchmarks on a
# machine that has an NVIDIA driver but no .NET. Two halves:
#
#   scripts/gpu-check.sh prepare          # here, with the SDK: a self-contained linux-x64
#                                         # publish of the CLI and the benchmarks, packed as
#                                         # artifacts/gpu-check.tar.xz (well under 64 MiB)
#   scripts/gpu-check.sh run OUT_DIR      # on the GPU machine, from the repository root:
#                                         # unpacks, runs `devices`, `validate --backend cuda`
#                                         # and the CUDA benchmarks in-process, writes OUT_DIR
#
# Nothing is built on the GPU machine. Record what OUT_DIR holds in kernels.md.
set -euo pipefail
cd "$(dirname "$0")/.."
archive=artifacts/gpu-check.tar.xz

case "${1:-}" in
  prepare)
    rm -rf artifacts/gpu-check && mkdir -p artifacts/gpu-check
    # -p:StairTextEncoder=false leaves MiniLM out (its 91 MB model and ONNX Runtime would not fit the
    # 64 MiB carry); the GPU check never embeds text.
    for project in src/Stair.Kernels.Cli bench/Stair.Kernels.Benchmarks; do
      dotnet publish "$project" -c Release -r linux-x64 --self-contained true \
        -p:PublishTrimmed=false -p:DebugType=none -p:GenerateDocumentationFile=false -p:StairTextEncoder=false \
        -o artifacts/gpu-check
    done
    tar -C artifacts -cJf "$archive" gpu-check
    ls -l "$archive"
    echo "carry $archive and scripts/gpu-check.sh; run: bash scripts/gpu-check.sh run \$OUT"
    ;;
  run)
    out=${2:?usage: scripts/gpu-check.sh run OUT_DIR}
    mkdir -p "$out"
    work=$(mktemp -d)
    tar -C "$work" -xJf "$archive"
    bin="$work/gpu-check"
    nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || true
    "$bin/stair-kernels" devices > "$out/devices.txt" 2>&1 || true
    status=0
    "$bin/stair-kernels" validate --backend cuda --repeat 20 > "$out/validate-cuda.txt" 2>&1 || status=$?
    (cd "$work" && "$bin/Stair.Kernels.Benchmarks" --inProcess --filter '*PropagationBenchmarks*' \
        --artifacts "$out/benchmarks" --exporters GitHub JSON) > "$out/benchmarks.log" 2>&1 || status=$?
    tail -n 3 "$out/validate-cuda.txt"
    exit "$status"
    ;;
  *)
    echo "usage: scripts/gpu-check.sh prepare | run OUT_DIR" >&2
    exit 2
    ;;
esac
