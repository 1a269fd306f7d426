#!/usr/bin/env bash
# Compare what two commits write, byte for byte: builds `floodseg` at OLD and at NEW (default
# HEAD) and runs the same commands with each — `segment` (labels, every --save-stages image,
# --stats, --counts, --overlay) on every fixture in tests/fixtures, the real images in data/
# with the flags of scripts/eval/F1_TABLE.md, the lecture's stack and synthetic benchmark
# frames, on the CPU and the GPU backend; `tune` (--json) and `eval` (--json) — then compares
# every file written and every stdout. Timings (stderr) are not compared.
#
#   scripts/compare_commits.sh OLD [NEW] [--cpu-only]
#
# Exit 0 when everything is identical; 1 with the list of differing files. Needs a Vulkan
# adapter for the GPU half (lavapipe is enough; pass --cpu-only without one).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
old=${1:?usage: scripts/compare_commits.sh OLD [NEW] [--cpu-only]}
new=${2:-HEAD}
backends="cpu gpu"
for a in "$@"; do [ "$a" = "--cpu-only" ] && backends="cpu"; done
[ "$new" = "--cpu-only" ] && new=HEAD
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
work=$(mktemp -d "${TMPDIR:-/tmp}/floodseg-compare.XXXXXX")
trap 'git -C "$repo" worktree remove --force "$work/src-old" 2>/dev/null || true;
      git -C "$repo" worktree remove --force "$work/src-new" 2>/dev/null || true' EXIT

for side in old new; do
    rev=$([ $side = old ] && echo "$old" || echo "$new")
    git worktree add --detach -q "$work/src-$side" "$rev"
    # one target folder for both: the dependencies are built once
    (cd "$work/src-$side" && CARGO_TARGET_DIR="$repo/target/compare" \
        cargo build --release --locked --bin floodseg -q)
    cp "$repo/target/compare/release/floodseg" "$work/floodseg-$side"
done

# the inputs both binaries see (made once, by the NEW binary)
data="$work/data"
mkdir -p "$data"
for seed in 1 2 3; do
    "$work/floodseg-new" synth colony --size 384x320 --seed $seed -o "$data/colony_$seed.png" 2>/dev/null
done
"$work/floodseg-new" synth rods --size 512x384 --seed 1 -o "$data/rods.png" --gt "$data/rods_gt.tif" 2>/dev/null

run_side() {
    local side=$1 bin="$work/floodseg-$1" out="$work/out-$1"
    mkdir -p "$out"
    local n=0
    seg() {  # seg NAME BACKEND INPUT FLAGS...
        local name=$1 backend=$2 input=$3; shift 3
        local d="$out/$name-$backend"
        mkdir -p "$d"
        (cd "$repo" && "$bin" segment "$input" -o "$d/labels.tif" --backend "$backend" \
            --save-stages "$d/stages" --stats "$d/objects.csv" --counts "$d/counts.csv" \
            --overlay "$d/overlay" "$@" > "$d/stdout" 2> "$d/stderr") || echo "exit $?" >> "$d/stdout"
        n=$((n + 1))
    }
    for backend in $backends; do
        for case in "$repo"/tests/fixtures/*/; do
            [ -f "$case/args.txt" ] || continue
            input=$(ls "$case" | grep -E '^input\.(png|tif)$' | head -1) || true
            [ -n "$input" ] || continue
            # shellcheck disable=SC2046
            seg "fixture_$(basename "$case")" "$backend" "$case/$input" $(cat "$case/args.txt")
        done
        seg ecoli "$backend" data/ecoli.png --threshold 180 --dark --open 1 --min-distance 10 --footprint 10
        seg ecoli_rods "$backend" data/ecoli.png --preset rods
        seg timelapse "$backend" data/ecoli/timelapse_crop.tif --preset lecture
        for s in 1 2 3; do seg "colony_$s" "$backend" "$data/colony_$s.png"; done
        seg rods "$backend" "$data/rods.png" --preset rods
        seg rods_core "$backend" "$data/rods.png" --preset rods --core 100 --smooth 1 --background 10
        seg rods_jfa "$backend" "$data/rods.png" --distance jfa --markers regional --clear-border 0
        # the real fields with their calibrated flags
        while read -r name image gt polarity; do
            case "$name" in \#*|"") continue ;; esac
            flags=$(grep -oP "^- $name: .*?rods calibrated \`\K[^\`]*" scripts/eval/F1_TABLE.md || true)
            [ -n "$flags" ] || continue
            # shellcheck disable=SC2086
            seg "real_$name" "$backend" "$image" $flags
        done < "$repo/scripts/eval/sets.txt"
        # tune and eval
        (cd "$repo" && "$bin" tune data/ecoli.png --gt tests/fixtures/ecoli/labels.tif --dark \
            --open 0:1 --markers peaks,hmax --min-distance 5,10 --h 1,2 --smooth 0 \
            --min-area 0,20 --top 50 --json --backend "$backend" -q > "$out/tune_ecoli-$backend.json" 2>/dev/null) || true
        (cd "$repo" && "$bin" tune "$data/rods.png" --gt "$data/rods_gt.tif" --preset rods \
            --threshold otsu,scan:4 --core none,scan:2 --top 50 --json --backend "$backend" -q \
            > "$out/tune_rods-$backend.json" 2>/dev/null) || true
    done
    for d in "$out"/real_*-cpu "$out"/ecoli-cpu; do
        [ -d "$d" ] || continue
        (cd "$repo" && "$bin" eval --gt "$d/labels.tif" --pred "$d/labels.tif" --json > "$d/eval.json" 2>/dev/null) || true
    done
    (cd "$repo" && "$bin" eval --gt data/ecoli/mask_0000_deflate.tif --pred "$out/real_ecoli_0000-cpu/labels.tif" --json \
        > "$out/eval_ecoli_0000.json" 2>/dev/null) || true
    echo "$side: $n segment runs" >&2
}
run_side old
run_side new

# every file written, every stdout; not stderr (timings)
status=0
(cd "$work/out-old" && find . -type f ! -name stderr | sort) > "$work/files-old"
(cd "$work/out-new" && find . -type f ! -name stderr | sort) > "$work/files-new"
if ! diff -q "$work/files-old" "$work/files-new" > /dev/null; then
    echo "different sets of files:"; diff "$work/files-old" "$work/files-new" | head -20
    status=1
fi
differ=0
while read -r f; do
    if [ -f "$work/out-new/$f" ] && ! cmp -s "$work/out-old/$f" "$work/out-new/$f"; then
        echo "differs: $f"; differ=$((differ + 1))
    fi
done < "$work/files-old"
total=$(wc -l < "$work/files-old")
if [ $differ -gt 0 ]; then status=1; fi
echo "compared $total files of $old and $new ($backends): $differ differ"
exit $status
