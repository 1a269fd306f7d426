#!/usr/bin/env bash
# Reproduce BENCHMARKS-GPU.md on a machine with a GPU:  bash scripts/bench/run_gpu_benchmarks.sh
#
# The same data and Python tools as run_benchmarks.sh (BENCHMARKS.md), plus floodseg's GPU
# backend on every size and on the stack (scripts/bench/gpu_bench.py). Refuses to run when the
# GPU backend finds only a software adapter (lavapipe). Python: $PYTHON (default python3) with
# numpy, scipy, skimage, tifffile and cv2, else a venv from scripts/bench/requirements.txt.
# Environment: BENCH_WORK (default ${TMPDIR:-/tmp}/floodseg-bench), CARGO_TARGET_DIR,
# FLOODSEG (a prebuilt floodseg binary: skips the build, for machines without cargo).
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${BENCH_WORK:-${TMPDIR:-/tmp}/floodseg-bench}
mkdir -p "$WORK"
PY=${PYTHON:-python3}
if ! "$PY" -c "import numpy, scipy, skimage, tifffile, cv2" 2>/dev/null; then
    echo "run_gpu_benchmarks: $PY lacks the packages; creating $WORK/venv" >&2
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/pip" install --quiet -r scripts/bench/requirements.txt
    PY=$WORK/venv/bin/python
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
if [ -z "${FLOODSEG:-}" ]; then
    cargo build --release --quiet
    FLOODSEG=${CARGO_TARGET_DIR:-target}/release/floodseg
fi
"$PY" scripts/bench/make_data.py "$WORK/data"
"$PY" scripts/bench/gpu_bench.py --floodseg "$FLOODSEG" --data "$WORK/data" --python "$PY" \
    --out BENCHMARKS-GPU.md "$@"
