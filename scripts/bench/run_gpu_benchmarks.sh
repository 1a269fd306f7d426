#!/usr/bin/env bash
# Reproduce BENCHMARKS-GPU.md on a machine with a GPU:  bash scripts/bench/run_gpu_benchmarks.sh
#
# First the whole test suite on the GPU (`cargo test --profile ci --all-targets`,
# FLOODSEG_REQUIRE_GPU=1: the GPU paths that only lavapipe has run — the label loop's tiles,
# --core, --background, the pair histogram — run on the hardware adapter; its result lines go
# into BENCHMARKS-GPU.md; a failure stops the script), then the benchmarks. BENCH_SKIP_TESTS=1
# skips the tests (the Python tests are not run here: they test the binding, not the GPU).
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
TESTS_LOG=$WORK/tests.log
if [ "${BENCH_SKIP_TESTS:-0}" != 1 ] && command -v cargo >/dev/null 2>&1; then
    echo "run_gpu_benchmarks: the test suite on this GPU (log: $TESTS_LOG)" >&2
    if ! FLOODSEG_REQUIRE_GPU=1 cargo test --profile ci --locked --all-targets >"$TESTS_LOG" 2>&1; then
        grep -E "^test result|FAILED|panicked" "$TESTS_LOG" >&2 || true
        echo "run_gpu_benchmarks: tests failed on this GPU; see $TESTS_LOG" >&2
        exit 1
    fi
    grep -E "^test result" "$TESTS_LOG" >&2 || true
else
    rm -f "$TESTS_LOG"
fi
if [ -z "${FLOODSEG:-}" ]; then
    cargo build --release --quiet
    FLOODSEG=${CARGO_TARGET_DIR:-target}/release/floodseg
fi
"$PY" scripts/bench/make_data.py "$WORK/data"
"$PY" scripts/bench/gpu_bench.py --floodseg "$FLOODSEG" --data "$WORK/data" --python "$PY" \
    --out BENCHMARKS-GPU.md --tests-log "$TESTS_LOG" "$@"
