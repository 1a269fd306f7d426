#!/usr/bin/env bash
# Reproduce BENCHMARKS.md:  bash scripts/bench/run_benchmarks.sh
#
# Builds floodseg (release), writes the synthetic frames (scripts/bench/make_data.py), runs
# scikit-image, OpenCV and floodseg on them, each measurement in its own process
# (scripts/bench/bench.py, scripts/bench/tools.py), and rewrites BENCHMARKS.md.
#
# Python: uses $PYTHON (default python3) when it imports numpy, scipy, skimage, tifffile and
# cv2; otherwise creates a virtual environment in $BENCH_WORK/venv from
# scripts/bench/requirements.txt. The versions used are written into BENCHMARKS.md.
# Environment: BENCH_WORK (data and outputs; default ${TMPDIR:-/tmp}/floodseg-bench),
# CARGO_TARGET_DIR (honoured). Extra arguments go to bench.py, e.g. --no-gpu, or
# --sizes 1024 --stack-frames 10 for a quick trial (that writes BENCHMARKS.md too).
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${BENCH_WORK:-${TMPDIR:-/tmp}/floodseg-bench}
mkdir -p "$WORK"
PY=${PYTHON:-python3}
if ! "$PY" -c "import numpy, scipy, skimage, tifffile, cv2" 2>/dev/null; then
    echo "run_benchmarks: $PY lacks the packages; creating $WORK/venv" >&2
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/pip" install --quiet -r scripts/bench/requirements.txt
    PY=$WORK/venv/bin/python
fi
# Mesa prints a warning without a runtime dir (servers with no login session).
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/floodseg
"$PY" scripts/bench/make_data.py "$WORK/data"
"$PY" scripts/bench/bench.py --floodseg "$BIN" --data "$WORK/data" --python "$PY" \
    --out BENCHMARKS.md "$@"
