#!/usr/bin/env python3
"""The README's real-data table: F1 at IoU 0.5 of the lecture pipeline and of `--preset rods`
on every set of scripts/eval/sets.txt plus synthetic rods, all with floodseg itself.

    python3 scripts/eval/f1_table.py [--out scripts/eval/F1_TABLE.md] [--backend cpu|gpu]
        [--bin target/release/floodseg]

Columns (every search is `floodseg tune`, StarDist's matching as `floodseg eval`):
- lecture, best: the lecture pipeline (peak_local_max markers, no smoothing or filters) with
  its best threshold (Otsu or 12 levels from the 1st to the 99th percentile), opening 0-3 and
  min_distance 2..30 on that very set: an optimistic upper bound for it;
- rods, as is: `floodseg segment --preset rods` (Otsu), nothing tuned;
- rods, calibrated: `floodseg tune --preset rods`: the preset with only its levels searched
  (threshold: Otsu or 24 levels; core: none or 10 levels), what a user does on one annotated
  frame of an acquisition;
- rods, calibrated + background: the same search with `--background off,5,10,20` (the
  flattening of uneven illumination; each radius with its own levels);
- rods family, best: smoothing, threshold, core, opening, h, min area, eccentricity and
  `--clear-border off,0` searched.
Then the transfer table: each acquisition's settings calibrated on one frame and applied
unchanged to its other frames (lecture frame 0 -> frame 10, ColiCoords field 1 -> 2 and 4).
Needs only Python 3 and a release build (cargo build --release); takes ~10 min on 2 cores.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "target" / "release" / "floodseg"

LECTURE_GRID = ["--markers", "peaks", "--smooth", "0", "--threshold", "scan:12,otsu",
                "--open", "0:3", "--min-distance", "2,3,4,5,7,10,15,20,30", "--min-area", "0"]
FAMILY_GRID = ["--markers", "hmax", "--threshold", "scan:12,otsu", "--core", "none,scan:6",
               "--flood", "intensity", "--smooth", "0,1", "--open", "1,2", "--h", "1,2,3",
               "--min-area", "0,50,100", "--min-eccentricity", "0,0.8",
               "--clear-border", "off,0"]
BACKGROUNDS = "off,5,10,20"
# calibrated on the first frame, applied to the others
TRANSFER = [("ecoli_0000", ["ecoli_0010"]),
            ("colicoords_00001", ["colicoords_00002", "colicoords_00004"])]


def run(args, float_refusal_ok=False):
    out = subprocess.run([str(BIN)] + [str(a) for a in args], capture_output=True, text=True)
    if out.returncode != 0:
        # --background is refused for float images (the column then repeats "calibrated");
        # any other failure stops the run
        if float_refusal_ok and "--background" in out.stderr and "float" in out.stderr:
            return None
        sys.exit(f"floodseg {' '.join(map(str, args))}: {out.stderr.strip()}")
    return out.stdout


def tune_best(img, gt, polarity, grid, backend, preset=None, float_refusal_ok=False):
    args = ["tune", img, "--gt", gt, f"--{polarity}", "--backend", backend, "--top", "1",
            "--json", "-q"] + grid
    if preset:
        args += ["--preset", preset]
    out = run(args, float_refusal_ok)
    return json.loads(out.splitlines()[0]) if out else None


def eval_f1(gt, pred):
    return json.loads(run(["eval", "--gt", gt, "--pred", pred, "--iou", "0.5", "--json"]))


def main():
    global BIN
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "scripts" / "eval" / "F1_TABLE.md"))
    ap.add_argument("--backend", default="cpu")
    ap.add_argument("--bin", default=str(BIN), help="the floodseg binary (default: the release build)")
    a = ap.parse_args()
    BIN = Path(a.bin)
    if not BIN.exists():
        sys.exit(f"{BIN} is missing: run `cargo build --release` first")
    tmp = Path(tempfile.mkdtemp(prefix="floodseg-f1-"))
    sets = []
    for line in (ROOT / "scripts" / "eval" / "sets.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, img, gt, pol = line.split()
            sets.append((name, str(ROOT / img), str(ROOT / gt), pol))
    for seed in (1, 2):
        img, gt = tmp / f"synth_rods_{seed}.png", tmp / f"synth_rods_{seed}_gt.tif"
        run(["synth", "rods", "--size", "512x512", "--seed", seed, "-o", img, "--gt", gt])
        sets.append((f"synthetic rods (seed {seed})", str(img), str(gt), "dark"))

    rows = []
    found = {}
    t0 = time.time()
    for name, img, gt, pol in sets:
        lecture = tune_best(img, gt, pol, LECTURE_GRID, a.backend)
        pred = tmp / "preset.tif"
        run(["segment", img, "-o", pred, "--preset", "rods", f"--{pol}", "--backend", a.backend,
             "-q"])
        as_is = eval_f1(gt, str(pred))
        calibrated = tune_best(img, gt, pol, [], a.backend, preset="rods")
        # one search over the radii (off first, so it wins ties); float images have no
        # --background: the column then repeats the calibrated one
        with_bg = tune_best(img, gt, pol, ["--background", BACKGROUNDS], a.backend,
                            preset="rods", float_refusal_ok=True) or calibrated
        family = tune_best(img, gt, pol, FAMILY_GRID, a.backend)
        n_gt = as_is["n_true"]
        rows.append((name, n_gt, lecture, as_is, calibrated, with_bg, family))
        found[name] = (lecture["args"], calibrated["args"], with_bg["args"])
        print(f"{name}: lecture {lecture['f1']:.3f}  rods as is {as_is['f1']:.3f}  "
              f"calibrated {calibrated['f1']:.3f}  +background {with_bg['f1']:.3f}  "
              f"family {family['f1']:.3f}", flush=True)

    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()
    lines = [
        f"F1 at IoU 0.5 (StarDist matching), `scripts/eval/f1_table.py`, floodseg {head}, "
        f"backend {a.backend}, {time.strftime('%Y-%m-%d')}, {time.time() - t0:.0f} s.",
        "",
        "| set | GT objects | lecture, best | rods, as is | rods, calibrated | "
        "rods, calibrated + background | rods family, best |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, n_gt, lec, as_is, cal, bg, fam in rows:
        lines.append(f"| {name} | {n_gt} | {lec['f1']:.3f} | {as_is['f1']:.3f} | "
                     f"{cal['f1']:.3f} | {bg['f1']:.3f} | {fam['f1']:.3f} |")
    by_name = {name: (img, gt) for name, img, gt, _ in sets}
    lines += ["", "Settings calibrated on one frame, applied unchanged to another frame of the "
              "same acquisition (F1 at IoU 0.5):", "",
              "| calibrated on → applied to | lecture's best settings | rods, calibrated | "
              "rods, calibrated + background |",
              "|---|---:|---:|---:|"]
    for src, dsts in TRANSFER:
        for dst in dsts:
            img, gt = by_name[dst]
            f1s = []
            for args in found[src]:
                pred = tmp / "transfer.tif"
                run(["segment", img, "-o", pred, "--backend", a.backend, "-q"] + args.split())
                f1s.append(eval_f1(gt, str(pred))["f1"])
            lines.append(f"| {src} → {dst} | {f1s[0]:.3f} | {f1s[1]:.3f} | {f1s[2]:.3f} |")
            print(f"transfer {src} -> {dst}: lecture {f1s[0]:.3f} rods {f1s[1]:.3f} "
                  f"+background {f1s[2]:.3f}", flush=True)
    lines += ["", "Settings found:", ""]
    for name, _, lec, _, cal, bg, fam in rows:
        lines.append(f"- {name}: lecture `{lec['args']}`; rods calibrated `{cal['args']}`; "
                     f"with background `{bg['args']}`; family `{fam['args']}`")
    Path(a.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
