#!/usr/bin/env bash
# Run `floodseg segment` with --backend cpu and --backend gpu on one image and compare every
# file written (labels, all --save-stages TIFFs and PNGs, the --stats CSV) and the printed count.
#
#   scripts/compare_backends.sh IMAGE [segment flags...]
#   scripts/compare_backends.sh data/ecoli.png --threshold 180 --dark --open 1 --min-distance 10 --footprint 10
#
# Exit 0 when everything is byte-identical, 1 otherwise. Uses target/release/floodseg (built if
# missing). On a machine without a GPU, lavapipe (mesa-vulkan-drivers) serves as the adapter.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { sed -n '2,9p' "$0"; exit 2; }
input=$1; shift
bin=target/release/floodseg
[ -x "$bin" ] || cargo build --release --quiet --bin floodseg
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for b in cpu gpu; do
    mkdir -p "$out/$b"
    "$bin" segment "$input" -o "$out/$b/labels.tif" "$@" --backend "$b" \
        --save-stages "$out/$b/stages" --stats "$out/$b/objects.csv" > "$out/$b.stdout" 2> "$out/$b.stderr" \
        || { echo "--backend $b failed:"; cat "$out/$b.stderr"; exit 1; }
done
if diff -r "$out/cpu" "$out/gpu" > /dev/null && cmp -s "$out/cpu.stdout" "$out/gpu.stdout"; then
    echo "identical: $(cat "$out/cpu.stdout") ($(grep -o 'backend gpu: .*' "$out/gpu.stderr"))"
else
    echo "DIFFERENT:"; diff -r "$out/cpu" "$out/gpu" | head; diff "$out/cpu.stdout" "$out/gpu.stdout" || true
    exit 1
fi
