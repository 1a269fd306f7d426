#!/usr/bin/env bash
# Check calibrated label TIFFs floodseg writes in real readers (not part of the test suite):
# writes them with `cargo run --example calibrated_labels`, prints what tifffile reads
# (scripts/reference/check_calibration.py, checked with --expect) and, when ImageJ is
# installed (Debian: apt-get install imagej xvfb), what ImageJ reads
# (scripts/imagej/show_calibration.ijm, run under xvfb-run since ImageJ's macro runner needs
# a display). Usage: scripts/check_calibration.sh [OUTDIR] (default target/calibration-check).
# PYTHON selects the interpreter with tifffile (default python3); IJ_JAR ImageJ's jar.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/calibration-check}
mkdir -p "$out"
out=$(cd "$out" && pwd)
echo "== floodseg writes and reads back"
cargo run --quiet --example calibrated_labels -- "$out"
files=("$out"/*.tif)
echo "== tifffile"
"${PYTHON:-python3}" scripts/reference/check_calibration.py --expect "${files[@]}"
ij_jar=${IJ_JAR:-/usr/share/java/ij.jar}
if [ -f "$ij_jar" ] && command -v java >/dev/null; then
    echo "== ImageJ ($ij_jar)"
    run=(java -jar "$ij_jar" -batch "$PWD/scripts/imagej/show_calibration.ijm"
         "$(printf '%s\n' "${files[@]}")")
    if command -v xvfb-run >/dev/null; then
        xvfb-run -a "${run[@]}"
    else
        "${run[@]}"
    fi
else
    echo "== ImageJ not found ($ij_jar); skipped"
fi
