#!/usr/bin/env python3
"""floodseg track against laptrack, on the same floodseg segmentations, and growth-rate accuracy.

    python scripts/eval/track_compare.py [--bin target/release/floodseg] [--synth-bin BIN]
        [--seeds 1000,1001,1002,1003,1004] [--frames 50] [--work /tmp/compare-track]
        [--out scripts/eval/TRACK_COMPARE.md] [--json FILE.json] [--ecoli DIR | --no-ecoli]
        [--hidden-divisions]
    python scripts/eval/track_compare.py --render scripts/eval/track_compare.json [--out FILE.md]

Needs Python with numpy, tifffile, pandas, scikit-image, laptrack and py-ctcmetrics
(`ctc_metrics`). The binaries are copied into --work first, so a rebuild during the run cannot
mix two versions; the JSON (default: --out with .json) records their hash and build time.
5 scenarios x 5 seeds and the E. coli video take about 6 min on 2 cores.

For every scenario and seed (seeds >= 1000, never used to tune anything):
  synth timelapse --seed S --frames N -o movie.tif --gt GT [scenario flags]
  segment movie.tif --preset rods --backend cpu -o seg.tif            (once)
  track movie.tif --preset rods --backend cpu --ctc RES_fs --lineage lin.csv
  track --labels seg.tif --ctc RES_fs_labels     (the segmentation laptrack gets; RES_fs
                         also sees the objects the preset's shape filter drops, docs/tracking.md)
  track --labels GT/TRA --ctc RES_fs_gt --lineage lin_gt.csv
  laptrack OverLapTrack and LapTrack on seg.tif and on GT/TRA -> CTC folders
With --hidden-divisions the truth records every simulated division, also those whose second
daughter is never in the field (`synth timelapse --hidden-divisions`; by default the one
daughter seen goes on in her mother's track, as the images show it; docs/tracking.md).
Every result folder is validated with py-ctcmetrics (validate_sequence) and scored with
evaluate_sequence (DET, TRA, LNK, CT, TF, BC(1), CCA).

laptrack parameters (laptrack's own documented examples; nothing tuned on these movies):
  OverLapTrack(cutoff=0.9, splitting_cutoff=0.9, gap_closing_cutoff=0.9,
               gap_closing_max_frame_count=3), the metric coefficients left at the class
    defaults (1, 0, 0, 0, -1): cost = 1 - overlap/area of the later object, for linking,
    gap closing and splitting, as in laptrack's overlap-tracking examples (cutoff 0.9,
    splitting cutoff 0.9). gap_closing_cutoff is set to 0.9 as well because its default, 15**2,
    is a squared distance that would let any two objects without overlap be joined.
  LapTrack(cutoff=15**2, splitting_cutoff=30**2, gap_closing_cutoff=15**2,
           gap_closing_max_frame_count=3) on regionprops centroids: laptrack's
    "Tracking centroids of segmented cells" example (cutoff 15**2, splitting 30**2; gap
    closing at its default 15**2).
  gap_closing_max_frame_count=3 for both, instead of laptrack's default 2, gives the same
  allowance as floodseg's default --max-gap 2: laptrack counts the frame difference (1 is the
  next frame), floodseg the frames missed.

Growth rates: each result track of floodseg's lineage is matched to the ground-truth label with
the most overlapping pixels over the track's frames (result masks against GT/TRA masks). Among
ground-truth cells seen from birth to division away from the edge (cells.csv: parent_id != 0,
divides, not touches_border) those whose matched track starts and ends within +-1 frame of
theirs and has a growth_rate are covered; the median of |g - r| / r against cells.csv's
growth_rate is reported, with the coverage.

Timing: floodseg's own tracking time (what `track` prints: linking without reading or writing
files) and the wall time of the whole `track --labels` process; laptrack's time is the Python
call (predict_overlap_dataframe, or regionprops centroids + predict_dataframe), and the whole
Python side (reading the stack, tracking, writing the CTC folder). Same machine for both.
"""
import argparse
import contextlib
import hashlib
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import tifffile

ROOT = Path(__file__).resolve().parents[2]

SCENARIOS = [
    ("still", []),
    ("drift 4", ["--drift", "4"]),
    ("out of focus 2", ["--out-of-focus", "2"]),
    ("crowded 30", ["--cells", "30"]),
    ("all", ["--drift", "4", "--out-of-focus", "2", "--cells", "30"]),
]
METRICS = ["Valid", "DET", "TRA", "LNK", "CT", "TF", "BC(1)", "CCA"]
SHOW = ["DET", "TRA", "LNK", "CT", "BC(1)"]
TRACKERS = ["floodseg", "OverLapTrack", "LapTrack"]
# on the segmentation also floodseg's whole route from the images: `track movie.tif --preset
# rods` sees the objects the preset's shape filter drops from seg.tif and keeps those that hold
# tracked cells (docs/tracking.md); "floodseg" tracks seg.tif itself, as laptrack does
FROM_IMAGES = "floodseg, from the images"


def trackers(inp, row=None):
    """The trackers scored on input `inp` ("seg" or "gt"); with `row` (a summary or case of an
    older run) only those it holds."""
    ks = ([FROM_IMAGES] if inp == "seg" else []) + TRACKERS
    return [k for k in ks if row is None or k in row[inp]]

OVERLAP_PARAMS = dict(cutoff=0.9, splitting_cutoff=0.9, gap_closing_cutoff=0.9,
                      gap_closing_max_frame_count=3)
CENTROID_PARAMS = dict(cutoff=15 ** 2, splitting_cutoff=30 ** 2, gap_closing_cutoff=15 ** 2,
                       gap_closing_max_frame_count=3)

COMMANDS = []  # every command line run, for the report


def sh(cmd, cwd=None):
    """Run a command; return (stdout, stderr, wall seconds)."""
    COMMANDS.append(" ".join(str(c) for c in cmd))
    t0 = time.perf_counter()
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, cwd=cwd)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(map(str, cmd))}\n{p.stderr}")
    return p.stdout, p.stderr, wall


def floodseg_track_time(stderr):
    m = re.search(r"of which tracking ([0-9.]+) s", stderr)
    return float(m.group(1)) if m else None


def floodseg_report(stderr, wall):
    """What `track` says of itself: its tracking time, gaps closed, merged cells split, cell
    frames drawn across the edge, blurred frames replaced."""
    r = {"time_track": floodseg_track_time(stderr), "time_total": wall}
    m = re.search(r"(\d+) gaps closed", stderr)
    r["gaps_closed"] = int(m.group(1)) if m else None
    m = re.search(r"(\d+) merged cells split", stderr)
    r["merges_split"] = int(m.group(1)) if m else None
    m = re.search(r"(\d+) cell frames drawn across the edge", stderr)
    r["edge_frames"] = int(m.group(1)) if m else None
    m = re.search(r"(\d+) blurred frames replaced", stderr)
    r["blurred_frames_replaced"] = int(m.group(1)) if m else None
    return r


# ---------------------------------------------------------------- label stacks and CTC folders

def read_labels(path):
    """A label stack (.tif) or a folder of label TIFFs (natural order) -> (T, H, W) array."""
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.tif"), key=lambda f: [int(t) if t.isdigit() else t
                                                           for t in re.split(r"(\d+)", f.name)])
        return np.stack([tifffile.imread(f) for f in files])
    a = tifffile.imread(path)
    return a if a.ndim == 3 else a[None]


def write_ctc(labels, tracks, parents, out):
    """labels: (T,H,W); tracks: {tid: [(frame, label), ...]}; parents: {child tid: parent tid}.

    Writes out/maskTTT.tif (uint16, labels = CTC track ids) and out/res_track.txt. A track that
    skips frames (gap closing) is cut into pieces at every gap: each later piece is a new label
    whose parent is the piece before it, as the CTC format requires."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    T = labels.shape[0]
    luts = [np.zeros(int(labels[t].max()) + 1, dtype=np.uint16) for t in range(T)]
    rows = []
    last_piece = {}
    next_id = 1
    order = sorted(tracks, key=lambda k: min(f for f, _ in tracks[k]))
    for tid in order:
        nodes = sorted(tracks[tid])
        pieces = [[nodes[0]]]
        for fl in nodes[1:]:
            if fl[0] == pieces[-1][-1][0]:
                raise ValueError(f"track {tid} has two objects in frame {fl[0]}")
            if fl[0] == pieces[-1][-1][0] + 1:
                pieces[-1].append(fl)
            else:
                pieces.append([fl])
        parent = last_piece.get(parents.get(tid), 0) if tid in parents else 0
        for piece in pieces:
            cid = next_id
            next_id += 1
            for f, lab in piece:
                luts[f][lab] = cid
            rows.append((cid, piece[0][0], piece[-1][0], parent))
            parent = cid
        last_piece[tid] = parent
    if next_id > 65535:
        raise ValueError("more than 65535 CTC tracks")
    for t in range(T):
        tifffile.imwrite(out / f"mask{t:03d}.tif", luts[t][labels[t]])
    with open(out / "res_track.txt", "w") as fh:
        for r in rows:
            fh.write("%d %d %d %d\n" % r)


def laptrack_overlap(labels):
    from laptrack import OverLapTrack
    olt = OverLapTrack(**OVERLAP_PARAMS)
    track_df, split_df, merge_df = olt.predict_overlap_dataframe(labels)
    track_df = track_df.reset_index()
    return track_df[["frame", "label", "track_id"]], split_df, merge_df


def laptrack_centroid(labels):
    from laptrack import LapTrack
    from skimage.measure import regionprops_table
    dfs = []
    for frame, lab in enumerate(labels):
        df = pd.DataFrame(regionprops_table(lab, properties=["label", "centroid"]))
        df["frame"] = frame
        dfs.append(df)
    df = pd.concat(dfs, ignore_index=True)
    lt = LapTrack(**CENTROID_PARAMS)
    track_df, split_df, merge_df = lt.predict_dataframe(
        df, coordinate_cols=["centroid-0", "centroid-1"], only_coordinate_cols=False)
    track_df = track_df.reset_index()
    return track_df[["frame", "label", "track_id"]], split_df, merge_df


def run_laptrack(kind, label_path, out):
    t0 = time.perf_counter()
    labels = read_labels(label_path)
    t1 = time.perf_counter()
    fn = laptrack_overlap if kind == "OverLapTrack" else laptrack_centroid
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        track_df, split_df, merge_df = fn(labels)
    t2 = time.perf_counter()
    assert merge_df.empty, "merging is off, yet laptrack returned merges"
    tracks = {}
    for f, lab, tid in track_df[["frame", "label", "track_id"]].itertuples(index=False):
        tracks.setdefault(int(tid), []).append((int(f), int(lab)))
    parents = {} if split_df.empty else {
        int(c): int(p) for p, c in
        split_df[["parent_track_id", "child_track_id"]].itertuples(index=False)}
    write_ctc(labels, tracks, parents, out)
    t3 = time.perf_counter()
    return {"time_track": t2 - t1, "time_total": t3 - t0}


# ---------------------------------------------------------------- py-ctcmetrics

def ctc_validate(res):
    from ctc_metrics.scripts.validate import validate_sequence
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        v = validate_sequence(str(res), threads=1)["Valid"]
    return int(v), [str(x.message) for x in w][:5]


def ctc_evaluate(res, gt):
    from ctc_metrics import evaluate_sequence
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = evaluate_sequence(str(res), str(gt), metrics=list(METRICS), threads=1)
    return {k: (float(v) if v is not None else None) for k, v in r.items()}


def same_ctc(a, b):
    """Do two CTC folders hold the same tracks and masks?"""
    a, b = Path(a), Path(b)
    if (a / "res_track.txt").read_text() != (b / "res_track.txt").read_text():
        return False, "res_track.txt differs"
    fa = sorted(p.name for p in a.glob("mask*.tif"))
    if fa != sorted(p.name for p in b.glob("mask*.tif")):
        return False, "different mask files"
    for f in fa:
        if not np.array_equal(tifffile.imread(a / f), tifffile.imread(b / f)):
            return False, f"{f} differs"
    return True, ""


def ctc_tracks(res, name="res_track.txt"):
    return np.loadtxt(Path(res) / name, dtype=np.int64, ndmin=2)


def lineage_stats(res, name="res_track.txt"):
    """Cell cycles in a CTC folder: single-child links (gap pieces) are joined to their parent;
    a division is a parent with two or more children."""
    tr = ctc_tracks(res, name)
    if tr.size == 0:
        return {"tracks": 0, "divisions": 0, "mean_length": 0.0}
    children = {}
    for L, B, E, P in tr:
        if P:
            children.setdefault(int(P), []).append(int(L))
    info = {int(L): (int(B), int(E), int(P)) for L, B, E, P in tr}

    def cycle_root(L):
        while True:
            B, E, P = info[L]
            if P and len(children.get(P, [])) == 1:
                L = P
            else:
                return L
    spans = {}
    for L in info:
        r = cycle_root(L)
        B, E, _ = info[L]
        b0, e0 = spans.get(r, (B, E))
        spans[r] = (min(b0, B), max(e0, E))
    divisions = sum(1 for c in children.values() if len(c) >= 2)
    lengths = [e - b + 1 for b, e in spans.values()]
    return {"tracks": len(spans), "divisions": divisions,
            "mean_length": float(np.mean(lengths))}


# ---------------------------------------------------------------- growth rates

def growth_errors(res, lineage_csv, gt):
    res, gt = Path(res), Path(gt)
    lin = pd.read_csv(lineage_csv)
    cells = pd.read_csv(gt / "cells.csv")
    gt_masks = read_labels(gt / "TRA")
    res_masks = read_labels(res)
    # overlap[(res label, gt label)] over all frames
    counts = {}
    for t in range(gt_masks.shape[0]):
        r = res_masks[t].ravel().astype(np.int64)
        g = gt_masks[t].ravel().astype(np.int64)
        m = (r > 0) & (g > 0)
        if not m.any():
            continue
        key = r[m] * 1_000_000 + g[m]
        u, c = np.unique(key, return_counts=True)
        for k, n in zip(u.tolist(), c.tolist()):
            counts[(k // 1_000_000, k % 1_000_000)] = counts.get((k // 1_000_000, k % 1_000_000), 0) + n
    best = {}
    for (rl, gl), n in counts.items():
        if rl not in best or n > best[rl][1]:
            best[rl] = (gl, n)
    truthy = lambda s: str(s).strip().lower() in ("true", "1")
    elig = cells[(cells.parent_id != 0) & cells.divides.map(truthy) & ~cells.touches_border.map(truthy)]
    by_gt = {}
    for row in lin.itertuples(index=False):
        if row.track_id in best:
            by_gt.setdefault(best[row.track_id][0], []).append(row)
    errs = []
    for c in elig.itertuples(index=False):
        cands = [r for r in by_gt.get(c.track_id, [])
                 if abs(r.start_frame - c.start_frame) <= 1 and abs(r.end_frame - c.end_frame) <= 1
                 and pd.notna(r.growth_rate)]
        if not cands:
            continue
        r = max(cands, key=lambda r: best[r.track_id][1])
        errs.append(abs(r.growth_rate - c.growth_rate) / c.growth_rate)
    return {"eligible": int(len(elig)), "covered": len(errs),
            "median_rel_err": float(np.median(errs)) if errs else None,
            "p90_rel_err": float(np.percentile(errs, 90)) if errs else None,
            "errors": [float(e) for e in errs]}


# ---------------------------------------------------------------- one case

def run_case(args, name, flags, seed, root):
    d = root / f"{name.replace(' ', '_')}_{seed}"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    F, S = args.bin, args.synth_bin
    stage = {}
    tick = [time.perf_counter()]

    def lap(what):
        now = time.perf_counter()
        stage[what] = stage.get(what, 0.0) + now - tick[0]
        tick[0] = now
    sh([S, "synth", "timelapse", "--seed", seed, "--frames", args.frames, "-o", d / "movie.tif",
        "--gt", d / "GT"] + flags + (["--hidden-divisions"] if args.hidden_divisions else []))
    sh([F, "segment", d / "movie.tif", "--preset", "rods", "--backend", "cpu",
        "-o", d / "seg.tif", "-q"])
    lap("synth+segment")
    case = {"scenario": name, "seed": seed, "flags": flags, "seg": {}, "gt": {}}

    # floodseg from raw images (segments again, then tracks), then on the stored labels
    _, err, wall = sh([F, "track", d / "movie.tif", "--preset", "rods", "--backend", "cpu",
                       "--ctc", d / "RES_fs", "--lineage", d / "lin.csv"])
    _, err_l, wall_l = sh([F, "track", "--labels", d / "seg.tif", "--ctc", d / "RES_fs_labels",
                           "--lineage", d / "lin_labels.csv"])
    same, why = same_ctc(d / "RES_fs", d / "RES_fs_labels")
    case["raw_equals_labels"] = same
    case["raw_equals_labels_why"] = why
    case["seg"]["floodseg"] = dict(floodseg_report(err_l, wall_l), res=str(d / "RES_fs_labels"))
    case["seg"][FROM_IMAGES] = dict(floodseg_report(err, wall), res=str(d / "RES_fs"))
    _, err_g, wall_g = sh([F, "track", "--labels", d / "GT" / "TRA", "--ctc", d / "RES_fs_gt",
                           "--lineage", d / "lin_gt.csv"])
    case["gt"]["floodseg"] = dict(floodseg_report(err_g, wall_g), res=str(d / "RES_fs_gt"))
    lap("floodseg")
    for kind, tag in (("OverLapTrack", "olt"), ("LapTrack", "lt")):
        r = run_laptrack(kind, d / "seg.tif", d / f"RES_{tag}")
        r["res"] = str(d / f"RES_{tag}")
        case["seg"][kind] = r
        r = run_laptrack(kind, d / "GT" / "TRA", d / f"RES_{tag}_gt")
        r["res"] = str(d / f"RES_{tag}_gt")
        case["gt"][kind] = r
    lap("laptrack")
    for inp in ("seg", "gt"):
        for kind in trackers(inp):
            r = case[inp][kind]
            r["valid"], r["valid_warnings"] = ctc_validate(r["res"])
            lap("validate")
            r["metrics"] = ctc_evaluate(r["res"], d / "GT")
            lap("evaluate")
            r.update(lineage_stats(r["res"]))
    case["growth_seg"] = growth_errors(d / "RES_fs", d / "lin.csv", d / "GT")
    case["growth_gt"] = growth_errors(d / "RES_fs_gt", d / "lin_gt.csv", d / "GT")
    lap("growth")
    g = lineage_stats(d / "GT" / "TRA", "man_track.txt")
    case["gt_tracks"], case["gt_divisions"] = g["tracks"], g["divisions"]
    case["gt_ctc_tracks"] = int(len(ctc_tracks(d / "GT" / "TRA", "man_track.txt")))
    case["stage_times"] = stage
    return case


def frames_changed(res, lab):
    """Frames whose result foreground is not the input's (replaced or repaired)."""
    return int(sum(not np.array_equal(tifffile.imread(Path(res) / f"mask{t:03d}.tif") > 0, lab[t] > 0)
                   for t in range(lab.shape[0])))


def run_ecoli(args, root):
    src = Path(args.ecoli)
    files = [src / f"img_{i:04d}.tif" for i in range(31)]
    d = root / "ecoli"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    F = args.bin
    seg_flags = ["--preset", "rods", "--background", "5", "--threshold", "221.5", "--backend", "cpu"]
    sh([F, "segment"] + files + seg_flags + ["-o", d / "seg.tif", "-q"])
    out = {"frames": len(files), "flags": seg_flags}
    _, err, wall = sh([F, "track", "--labels", d / "seg.tif", "--ctc", d / "RES_fs",
                       "--lineage", d / "lin.csv"])
    lab = read_labels(d / "seg.tif")
    for key, extra, res in (("floodseg", [], "RES_fs"), ("floodseg --max-gap 0", ["--max-gap", "0"], "RES_fs0")):
        if extra:
            _, err, wall = sh([F, "track", "--labels", d / "seg.tif", "--ctc", d / res] + extra)
        r = floodseg_report(err, wall)
        r["valid"], _ = ctc_validate(d / res)
        r.update(lineage_stats(d / res))
        r["frames_changed"] = frames_changed(d / res, lab)
        out[key] = r
    for kind, tag in (("OverLapTrack", "olt"), ("LapTrack", "lt")):
        r = run_laptrack(kind, d / "seg.tif", d / f"RES_{tag}")
        r["valid"], _ = ctc_validate(d / f"RES_{tag}")
        r.update(lineage_stats(d / f"RES_{tag}"))
        r["frames_changed"] = frames_changed(d / f"RES_{tag}", lab)
        out[kind] = r
    out["objects"] = int(sum(len(np.unique(f)) - 1 for f in lab))
    out["size"] = list(lab.shape[1:])
    return out


# ---------------------------------------------------------------- report

def fmt(x, nd=3):
    return "–" if x is None else f"{x:.{nd}f}"


def summarize(cases):
    """Per scenario, input and tracker: mean over seeds and the worst seed."""
    summ = {}
    for name, _ in SCENARIOS:
        cs = [c for c in cases if c["scenario"] == name]
        if not cs:
            continue
        s = {"seeds": [c["seed"] for c in cs]}
        for inp in ("seg", "gt"):
            s[inp] = {}
            for kind in trackers(inp, cs[0]):
                rs = [c[inp][kind] for c in cs]
                e = {}
                for m in SHOW + ["TF", "CCA"]:
                    vals = [r["metrics"].get(m) for r in rs]
                    vals = [v for v in vals if v is not None]
                    e[m] = {"mean": float(np.mean(vals)) if vals else None,
                            "worst": float(np.min(vals)) if vals else None,
                            "worst_seed": cs[int(np.argmin([r["metrics"].get(m) or 0 for r in rs]))]["seed"] if vals else None}
                for m in ("time_track", "time_total"):
                    vals = [r[m] for r in rs if r.get(m) is not None]
                    e[m] = {"mean": float(np.mean(vals)) if vals else None,
                            "worst": float(np.max(vals)) if vals else None}
                e["valid"] = all(r["valid"] == 1 for r in rs)
                e["tracks"] = float(np.mean([r["tracks"] for r in rs]))
                e["divisions"] = float(np.mean([r["divisions"] for r in rs]))
                s[inp][kind] = e
        for g in ("growth_seg", "growth_gt"):
            meds = [c[g]["median_rel_err"] for c in cs if c[g]["median_rel_err"] is not None]
            s[g] = {"mean_median": float(np.mean(meds)) if meds else None,
                    "worst_median": float(np.max(meds)) if meds else None,
                    "covered": int(sum(c[g]["covered"] for c in cs)),
                    "eligible": int(sum(c[g]["eligible"] for c in cs)),
                    "pooled_median": float(np.median(sum((c[g]["errors"] for c in cs), [])))
                    if any(c[g]["errors"] for c in cs) else None}
        s["raw_equals_labels"] = all(c["raw_equals_labels"] for c in cs)
        s["gt_tracks"] = float(np.mean([c["gt_tracks"] for c in cs]))
        s["gt_divisions"] = float(np.mean([c["gt_divisions"] for c in cs]))
        summ[name] = s
    return summ


def markdown(summ, env, ecoli, argv, elapsed):
    L = []
    L.append(f"Produced by `{argv}` in {elapsed / 60:.1f} min on {env['cpu']} "
             f"({env['nproc']} cores, load average {fmt(env['load_at_start'], 1)} at the start); floodseg {env['floodseg']} "
             f"(binary built {env.get('bin_built_utc', '?')} UTC in a checkout at {env['commit']}), "
             f"laptrack {env['laptrack']}, py-ctcmetrics {env['py-ctcmetrics']}, "
             f"Python {env['python']}.")
    L.append("")
    seeds = next(iter(summ.values()))["seeds"] if summ else []
    truth = ("; the truth records every simulated division, also those with one daughter in "
             "the field (`--hidden-divisions`)" if env.get("hidden_divisions") else "")
    L.append(f"Synthetic 256×256 time-lapses of {env['frames']} frames (`synth timelapse`{truth}), seeds "
             f"{', '.join(map(str, seeds))}; each cell is *mean over seeds (worst seed)*. "
             "CTC measures by py-ctcmetrics; every result folder passed its validation "
             "unless marked ✗. Cycles: tracks with gap pieces (single-child links) joined; "
             "divisions: parents with two children. Tracker time: the tracker alone "
             "(floodseg's own report; laptrack's Python call), mean (slowest); whole run: "
             "`track --labels` as a process, or laptrack with reading the stack and writing "
             "the CTC folder, mean; seconds.")
    L.append("")
    for inp, title in (("seg", "On floodseg's segmentation (`segment --preset rods`)"),
                       ("gt", "On the ground-truth masks (GT/TRA): linking alone")):
        L.append(f"#### {title}")
        L.append("")
        L.append("| scenario (GT cycles / divisions) | tracker | " + " | ".join(SHOW)
                 + " | cycles / divisions | tracker time (s) | whole run (s) |")
        L.append("|---|---|" + "---|" * (len(SHOW) + 3))
        for name, s in summ.items():
            for kind in trackers(inp, s):
                e = s[inp][kind]
                cells = [f"{fmt(e[m]['mean'])} ({fmt(e[m]['worst'])})" for m in SHOW]
                best = {m: max(round(s[inp][k][m]["mean"] or 0, 3) for k in trackers(inp, s))
                        for m in SHOW}
                cells = [f"**{c}**" if round(e[m]["mean"] or 0, 3) >= best[m] else c
                         for c, m in zip(cells, SHOW)]
                v = "" if e["valid"] else " ✗"
                L.append(f"| {name} (GT {s['gt_tracks']:.0f} / {s['gt_divisions']:.0f}) | {kind}{v} | "
                         + " | ".join(cells)
                         + f" | {e['tracks']:.0f} / {e['divisions']:.0f} | "
                         f"{fmt(e['time_track']['mean'], 3)} ({fmt(e['time_track']['worst'], 3)}) | "
                         f"{fmt(e['time_total']['mean'], 2)} |")
        L.append("")
    L.append("#### Growth rates (floodseg's lineage)")
    L.append("")
    L.append("Median relative error |g − r|/r of each cell's growth rate against cells.csv, over "
             "ground-truth cells seen from birth to division away from the edge whose matched "
             "track starts and ends within ±1 frame; mean of the per-seed medians (worst seed), "
             "and cells covered / eligible over all seeds.")
    L.append("")
    L.append("| scenario | from the images: median rel. error | covered | on GT masks: median rel. error | covered |")
    L.append("|---|---|---|---|---|")
    for name, s in summ.items():
        a, b = s["growth_seg"], s["growth_gt"]
        L.append(f"| {name} | {fmt(a['mean_median'], 4)} ({fmt(a['worst_median'], 4)}) | "
                 f"{a['covered']} / {a['eligible']} | {fmt(b['mean_median'], 4)} "
                 f"({fmt(b['worst_median'], 4)}) | {b['covered']} / {b['eligible']} |")
    L.append("")
    eq = all(s["raw_equals_labels"] for s in summ.values())
    L.append("`track movie.tif --preset rods` (*floodseg, from the images*) and `track --labels "
             "seg.tif` (*floodseg*) gave "
             + ("identical CTC folders in every case." if eq else
                "different CTC folders in: " + ", ".join(n for n, s in summ.items()
                                                         if not s["raw_equals_labels"])
                + " (from the images the tracker also sees the objects the preset's shape "
                "filter drops from seg.tif, and keeps those that hold tracked cells)."))
    L.append("")
    if ecoli:
        L.append(f"#### The lecture's E. coli video ({ecoli['frames']} frames, "
                 f"{ecoli['size'][1]}×{ecoli['size'][0]}, {ecoli['objects']} objects; no tracking ground truth)")
        L.append("")
        L.append("Segmented once with `segment img_0000.tif … img_0030.tif " + " ".join(ecoli["flags"])
                 + "`; all three trackers on that stack.")
        L.append("")
        L.append("| tracker | tracks (cell cycles) | divisions | mean track length (frames) | "
                 "frames whose masks it changed | time (s) | whole run (s) |")
        L.append("|---|---|---|---|---|---|---|")
        for kind in ["floodseg", "floodseg --max-gap 0"] + TRACKERS[1:]:
            e = ecoli[kind]
            v = "" if e["valid"] == 1 else " ✗"
            ch = e["frames_changed"]
            L.append(f"| {kind}{v} | {e['tracks']} | {e['divisions']} | {e['mean_length']:.1f} | "
                     f"{ch} | {fmt(e['time_track'], 3)} | {fmt(e['time_total'], 2)} |")
        L.append("")
    return "\n".join(L)


def environment(args, original):
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    ver = subprocess.run([str(args.bin), "--version"], capture_output=True, text=True).stdout.strip()
    # the commit of the checkout the binary was built in (target/release/floodseg's repo)
    repo = next((p for p in Path(original["bin"]).resolve().parents if (p / ".git").exists()), ROOT)
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    # a checkout with uncommitted changes to tracked files built something HEAD does not hold
    dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    if commit and dirty:
        commit += " with uncommitted changes"
    digest = hashlib.sha256(Path(args.bin).read_bytes()).hexdigest()[:16]
    built = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(Path(args.bin).stat().st_mtime))
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = None
    return {"cpu": cpu, "nproc": os.cpu_count(), "floodseg": ver.split()[-1] if ver else "?",
            "commit": commit, "bin_sha256": digest, "bin_built_utc": built, "load_at_start": load, "laptrack": metadata.version("laptrack"),
            "py-ctcmetrics": metadata.version("py-ctcmetrics"),
            "python": platform.python_version(), "frames": args.frames, "hidden_divisions": args.hidden_divisions,
            "synth_bin": str(original["synth_bin"]), "bin": str(original["bin"])}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "floodseg"),
                    help="floodseg binary for segment and track")
    ap.add_argument("--synth-bin", default=None, help="floodseg binary for synth (default --bin)")
    ap.add_argument("--seeds", default="1000,1001,1002,1003,1004")
    ap.add_argument("--frames", type=int, default=50)
    ap.add_argument("--scenarios", default=None, help="comma-separated subset of the scenario names")
    ap.add_argument("--work", default="/tmp/compare-track", help="scratch folder (emptied per case)")
    ap.add_argument("--out", default=None, help="write the markdown table here")
    ap.add_argument("--json", default=None, help="write every number here (default: --out with .json)")
    ap.add_argument("--ecoli", default="/work/shared/data/real/biodisco-ecoli/ecoli",
                    help="folder with the lecture's img_0000.tif … img_0030.tif")
    ap.add_argument("--no-ecoli", action="store_true")
    ap.add_argument("--hidden-divisions", action="store_true",
                    help="truth with every simulated division (synth timelapse --hidden-divisions)")
    ap.add_argument("--render", default=None, metavar="JSON",
                    help="only print (and --out) the tables of an earlier run's JSON")
    args = ap.parse_args()
    if args.render:
        d = json.load(open(args.render))
        md = markdown(d["summary"], d["environment"], d["ecoli"], d["argv"], d["elapsed_s"])
        print(md)
        if args.out:
            Path(args.out).write_text(md + "\n")
        return
    args.synth_bin = args.synth_bin or args.bin
    argv = "python scripts/eval/track_compare.py " + " ".join(sys.argv[1:])
    t0 = time.perf_counter()
    root = Path(args.work)
    root.mkdir(parents=True, exist_ok=True)
    # run private copies, so that a rebuild during the run cannot mix two versions
    original = {"bin": args.bin, "synth_bin": args.synth_bin}
    (root / "bin").mkdir(exist_ok=True)
    for attr, name in (("bin", "floodseg"), ("synth_bin", "floodseg-synth")):
        dst = root / "bin" / name
        shutil.copy2(getattr(args, attr), dst)
        setattr(args, attr, str(dst))
    env = environment(args, original)
    wanted = None if args.scenarios is None else set(s.strip() for s in args.scenarios.split(","))
    cases = []
    for name, flags in SCENARIOS:
        if wanted and name not in wanted:
            continue
        for seed in [int(s) for s in args.seeds.split(",")]:
            tc = time.perf_counter()
            cases.append(run_case(args, name, flags, seed, root))
            c = cases[-1]
            print(f"{name:>15} seed {seed}: TRA fs {c['seg']['floodseg']['metrics']['TRA']:.3f} "
                  f"olt {c['seg']['OverLapTrack']['metrics']['TRA']:.3f} "
                  f"lt {c['seg']['LapTrack']['metrics']['TRA']:.3f}  "
                  f"({time.perf_counter() - tc:.0f} s: "
                  + ", ".join(f"{k} {v:.1f}" for k, v in c["stage_times"].items()) + ")",
                  file=sys.stderr)
    ecoli = None
    if not args.no_ecoli and Path(args.ecoli).is_dir():
        ecoli = run_ecoli(args, root)
    elapsed = time.perf_counter() - t0
    summ = summarize(cases)
    md = markdown(summ, env, ecoli, argv, elapsed)
    print(md)
    if args.out:
        Path(args.out).write_text(md + "\n")
    jpath = args.json or (str(Path(args.out).with_suffix(".json")) if args.out else None)
    if jpath:
        with open(jpath, "w") as fh:
            json.dump({"environment": env, "argv": argv, "elapsed_s": elapsed,
                       "laptrack_params": {"OverLapTrack": OVERLAP_PARAMS,
                                           "LapTrack": CENTROID_PARAMS},
                       "summary": summ, "cases": cases, "ecoli": ecoli,
                       "commands": COMMANDS}, fh, indent=1, default=str)


if __name__ == "__main__":
    main()
