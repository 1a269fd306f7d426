#!/usr/bin/env python3
"""Prototype of floodseg's pipelines in Python (scikit-image/scipy), to pick the `rods` preset.

Pipelines (see scripts/eval/PROTOTYPE.md):
- lecture: gray -> threshold (Otsu or fixed; dark/bright) -> opening (k erosions then k
  dilations, cross) -> EDT -> peak_local_max(min_distance=m, exclude_border=m,
  footprint=ones((2m+1,)*2), labels=mask) -> label markers -> watershed(-dist, markers, mask).
- rods: optional binomial smoothing (n passes of [1 2 1]/4 on integer keys, rows then cols,
  (a+2b+c+2)>>2, edges replicated) -> threshold -> opening -> squared EDT d2 -> markers
  (hmax h in half-pixels on f = floor(2 sqrt(d2)), or regional maxima of d2) -> optional
  exclude-border B -> watershed(-d2, markers, mask) -> drop objects with area < min_area or
  > max_area, renumber.
- vol: clEsperanto-like voronoi_otsu_labeling (optional baseline).

Usage:
  python3 scripts/eval/prototype.py [--sets scripts/eval/sets.txt] [--synth DIR] [--jobs 2]
      [--out scripts/eval/results.json]
--synth DIR adds every DIR/rods_*.tif with DIR/rods_*_gt.tif (written by
`FLOODSEG_SYNTH_RODS_DIR=DIR cargo test --test stages -- --ignored synth_rods::write_fields`).

F1 at IoU 0.5 is computed from the overlap table (a match at IoU >= 0.5 is unique up to exact ties, so this equals
stardist.matching.matching(gt, pred, thresh=0.5).f1; checked on each best result when stardist
is installed).
"""
import argparse
import itertools
import json
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image
from scipy import ndimage as ndi
from skimage.feature import peak_local_max
from skimage.filters import gaussian, threshold_otsu
from skimage.morphology import local_maxima, reconstruction
from skimage.segmentation import watershed

REPO = Path(__file__).resolve().parents[2]
CROSS = ndi.generate_binary_structure(2, 1)
EIGHT = np.ones((3, 3), bool)

# ---------------------------------------------------------------- input


def load_image(path):
    """Integer gray keys as floodseg's gray stage makes them, and the scale (keys per unit):
    gray integer images are their own keys (scale 1); RGB(A) keys are
    2125 R + 7154 G + 721 B (rgb2gray x 255 x 10000 / 255... i.e. units x 10000)."""
    path = Path(path)
    a = tifffile.imread(path) if path.suffix.lower() in (".tif", ".tiff") else np.asarray(Image.open(path))
    if a.ndim == 3:
        a = a[..., :3].astype(np.int64)
        return 2125 * a[..., 0] + 7154 * a[..., 1] + 721 * a[..., 2], 10000
    assert a.dtype.kind in "ui", (path, a.dtype)
    return a.astype(np.int64), 1


def load_gt(path):
    return tifffile.imread(path).astype(np.int64)


# ---------------------------------------------------------------- stages


def binomial(g, n):
    """n passes of [1 2 1]/4 on integer keys, rows then columns, (a + 2b + c + 2) >> 2, edges
    replicated."""
    g = g.astype(np.int64)
    for _ in range(n):
        p = np.pad(g, ((0, 0), (1, 1)), mode="edge")
        g = (p[:, :-2] + 2 * p[:, 1:-1] + p[:, 2:] + 2) >> 2
        p = np.pad(g, ((1, 1), (0, 0)), mode="edge")
        g = (p[:-2] + 2 * p[1:-1] + p[2:] + 2) >> 2
    return g


def otsu_units(g, scale):
    """skimage's threshold_otsu as floodseg computes it: integer gray images one bin per value,
    RGB on rgb2gray x 255 with 256 bins."""
    if scale == 1:
        return float(threshold_otsu(g))
    return float(threshold_otsu(g / scale))


def threshold(g, scale, level, dark, is_otsu):
    """Objects: bright `v > level`; dark `v < level` (fixed) or `v <= level` (Otsu)."""
    v = g / scale if scale != 1 else g
    if not dark:
        return v > level
    return v <= level if is_otsu else v < level


def opening(mask, k):
    if k == 0:
        return mask
    e = ndi.binary_erosion(mask, CROSS, iterations=k)
    return ndi.binary_dilation(e, CROSS, iterations=k)


def sq_edt(mask):
    return np.rint(ndi.distance_transform_edt(mask) ** 2).astype(np.int64)


def lecture_markers(d2, mask, m):
    dist = np.sqrt(d2)
    coords = peak_local_max(dist, min_distance=m, exclude_border=m,
                            footprint=np.ones((2 * m + 1, 2 * m + 1)), labels=mask.astype(int))
    pk = np.zeros(mask.shape, bool)
    if len(coords):
        pk[tuple(coords.T)] = True
    return ndi.label(pk, EIGHT)[0]


def hmax_markers(d2, fg, h):
    # floor(2 sqrt(d2)) = isqrt(4 d2); sqrt of an exact square is exact in float64
    f = np.floor(np.sqrt(4 * d2)).astype(np.int64)
    seed = np.where(fg, f, 0)
    lim = np.where(fg, f + h, 0)
    r = reconstruction(seed, lim, method="dilation", footprint=EIGHT).astype(np.int64)
    mk = local_maxima(np.where(fg, r, 0), connectivity=2, allow_borders=True) & fg
    return ndi.label(mk, EIGHT)[0]


def regional_markers(d2, fg):
    mk = local_maxima(np.where(fg, d2, 0), connectivity=2, allow_borders=True) & fg
    return ndi.label(mk, EIGHT)[0]


def exclude_border(markers, b):
    if b > 0:
        markers = markers.copy()
        markers[:b] = 0
        markers[-b:] = 0
        markers[:, :b] = 0
        markers[:, -b:] = 0
    return markers


def ws(d2, markers, fg):
    return watershed(-d2, markers, mask=fg)


def area_filter(lab, min_area, max_area):
    area = np.bincount(lab.ravel())
    keep = (area >= min_area) & (area <= max_area)
    keep[0] = False
    new = np.zeros(len(area), np.int64)
    new[keep] = np.arange(1, keep.sum() + 1)
    return new[lab]


# ---------------------------------------------------------------- scoring


class Overlap:
    """Overlap table of GT against one prediction; F1@0.5 for any subset of pred objects."""

    def __init__(self, gt, pred):
        npred = int(pred.max())
        self.area = np.bincount(pred.ravel(), minlength=npred + 1)
        gta = np.bincount(gt.ravel())
        self.n_gt = int((gta[1:] > 0).sum())  # labels present (GT numbers need not be 1..n)
        sel = (gt > 0) & (pred > 0)
        pairs = gt[sel] * (npred + 1) + pred[sel]
        u, c = np.unique(pairs, return_counts=True)
        g, p = u // (npred + 1), u % (npred + 1)
        iou = c / (gta[g] + self.area[p] - c)
        self.matched = np.zeros(npred + 1, bool)
        self.matched[p[iou >= 0.5]] = True  # stardist counts IoU >= thresh

    def f1(self, min_area=0, max_area=np.inf):
        keep = (self.area >= min_area) & (self.area <= max_area)
        keep[0] = False
        tp = int((self.matched & keep).sum())
        npred = int(keep.sum())
        d = self.n_gt + npred
        return 2 * tp / d if d else 1.0


def stardist_f1(gt, pred):
    try:
        from stardist.matching import matching
    except ImportError:
        return None
    return float(matching(gt, pred, thresh=0.5).f1)


# ---------------------------------------------------------------- grids

OPEN_K = [0, 1, 2, 3]
LECTURE_M = [2, 3, 4, 5, 7, 10]
SMOOTH = [0, 1, 2, 4]
RODS_K = [0, 1, 2]
MARKERS = ["regional", 1, 2, 3, 4, 6, 8, 12]
MIN_AREA = [0, 20, 50, 100, 200, 400]
MAX_AREA = [np.inf, 2000, 5000]
FIXED_OFFSETS = [-0.3, -0.2, -0.1, 0.1, 0.2]


def levels(g, scale, dark):
    """Otsu plus fixed levels around it (Otsu + offset x (p99 - p1)), in the input's units."""
    t = otsu_units(g, scale)
    v = g / scale
    lo, hi = np.percentile(v, [1, 99])
    out = [("otsu", t)]
    for o in FIXED_OFFSETS:
        out.append((f"fixed {round(t + o * (hi - lo), 1):g}", round(t + o * (hi - lo), 1)))
    return out


def run_set(item):
    name, img_path, gt_path, pol = item
    t0 = time.time()
    g0, scale = load_image(img_path)
    gt = load_gt(gt_path)
    dark = pol == "dark"
    res = {"name": name, "polarity": pol, "n_gt": int(len(np.unique(gt)) - 1), "shape": list(gt.shape)}

    # lecture grid: both polarities, thresholds, k, m
    best = (-1, None)
    for d in (dark, not dark):
        for (tname, t), k in itertools.product(levels(g0, scale, d), OPEN_K):
            fg = opening(threshold(g0, scale, t, d, tname == "otsu"), k)
            d2 = sq_edt(fg)
            for m in LECTURE_M:
                lab = ws(d2, lecture_markers(d2, fg, m), fg)
                f = Overlap(gt, lab).f1()
                if f > best[0]:
                    best = (f, dict(threshold=tname, dark=d, open=k, min_distance=m))
    res["lecture_best"] = {"f1": best[0], **best[1]}

    # rods grid: dataset polarity; all configs with Otsu are kept for the shared choice
    rods_all = {}
    best = (-1, None)
    for n in SMOOTH:
        g = binomial(g0, n)
        for (tname, t), k in itertools.product(levels(g, scale, dark), RODS_K):
            fg = opening(threshold(g, scale, t, dark, tname == "otsu"), k)
            d2 = sq_edt(fg)
            for mk in MARKERS:
                markers = regional_markers(d2, fg) if mk == "regional" else hmax_markers(d2, fg, mk)
                ov = Overlap(gt, ws(d2, markers, fg))
                for lo, hi in itertools.product(MIN_AREA, MAX_AREA):
                    f = ov.f1(lo, hi)
                    cfg = dict(smooth=n, threshold=tname, open=k, markers=mk, min_area=lo,
                               max_area=None if hi == np.inf else hi)
                    if tname == "otsu":
                        rods_all[json.dumps(cfg, sort_keys=True)] = f
                    if f > best[0]:
                        best = (f, cfg)
    res["rods_best"] = {"f1": best[0], **best[1]}
    res["rods_otsu_all"] = rods_all
    k = max(rods_all, key=rods_all.get)
    res["rods_otsu_best"] = {"f1": rods_all[k], **json.loads(k)}

    # clEsperanto-like voronoi_otsu_labeling (dark images inverted first)
    v = (g0 / scale).astype(float)
    if dark:
        v = v.max() - v
    best = (-1, None)
    for ss, os_ in itertools.product([1, 2, 3, 4, 6], [1, 2]):
        bs = gaussian(v, ss, preserve_range=True)
        spots = local_maxima(bs, connectivity=2, allow_borders=True)
        bo = gaussian(v, os_, preserve_range=True)
        binary = bo > threshold_otsu(bo)
        mk = ndi.label(spots & binary, EIGHT)[0]
        lab = watershed(np.zeros_like(bo), mk, mask=binary)
        f = Overlap(gt, lab).f1()
        if f > best[0]:
            best = (f, dict(spot_sigma=ss, outline_sigma=os_))
    res["vol_best"] = {"f1": best[0], **best[1]}
    res["seconds"] = round(time.time() - t0, 1)
    print(f"{name}: lecture {res['lecture_best']['f1']:.3f} rods {res['rods_best']['f1']:.3f} "
          f"vol {res['vol_best']['f1']:.3f} ({res['seconds']} s)", file=sys.stderr, flush=True)
    return res


def rods_pipeline(g0, scale, dark, smooth, open, markers, min_area, max_area, threshold="otsu",
                  border=0):
    assert threshold == "otsu"
    g = binomial(g0, smooth)
    t = otsu_units(g, scale)
    fg = opening(globals()["threshold"](g, scale, t, dark, True), open)
    d2 = sq_edt(fg)
    mk = regional_markers(d2, fg) if markers == "regional" else hmax_markers(d2, fg, markers)
    lab = ws(d2, exclude_border(mk, border), fg)
    return area_filter(lab, min_area, np.inf if max_area is None else max_area)


def read_sets(path):
    out = []
    for line in Path(path).read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, img, gt, pol = line.split()
        out.append((name, str(REPO / img), str(REPO / gt), pol))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default=str(REPO / "scripts/eval/sets.txt"))
    ap.add_argument("--synth", default=None)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--only", default=None, help="comma-separated set names")
    ap.add_argument("--out", default=str(REPO / "scripts/eval/results.json"))
    a = ap.parse_args()
    items = read_sets(a.sets)
    if a.synth:
        for p in sorted(Path(a.synth).glob("rods_*.tif")):
            if p.stem.endswith("_gt"):
                continue
            items.append((f"synth_{p.stem}", str(p), str(p.with_name(p.stem + "_gt.tif")), "dark"))
    if a.only:
        keep = set(a.only.split(","))
        items = [i for i in items if i[0] in keep]
    with Pool(a.jobs) as pool:
        results = pool.map(run_set, items, chunksize=1)

    # shared rods parameter set: best mean F1 over the real sets (Otsu, each set's polarity)
    real = [r for r in results if not r["name"].startswith("synth_")]
    keys = set.intersection(*(set(r["rods_otsu_all"]) for r in real))
    mean = {k: float(np.mean([r["rods_otsu_all"][k] for r in real])) for k in keys}
    top = sorted(mean, key=lambda k: -mean[k])[:10]
    shared = json.loads(top[0])
    summary = {"shared": shared, "shared_mean_f1_real": mean[top[0]],
               "top10": [(json.loads(k), mean[k]) for k in top], "sets": []}
    for r in results:
        k = json.dumps(shared, sort_keys=True)
        row = {x: r[x] for x in ("name", "polarity", "n_gt", "shape", "lecture_best", "rods_best",
                                 "rods_otsu_best", "vol_best", "seconds")}
        row["shared_f1"] = r["rods_otsu_all"].get(k)
        summary["sets"].append(row)
    # cross-check the fast F1 with stardist on the shared preset
    by = {i[0]: i for i in items}
    for row in summary["sets"]:
        name, img, gtp, pol = by[row["name"]]
        g0, scale = load_image(img)
        lab = rods_pipeline(g0, scale, pol == "dark", **shared)
        gt = load_gt(gtp)
        row["shared_f1_stardist"] = stardist_f1(gt, lab)
        row["shared_n_pred"] = int(lab.max())
    Path(a.out).write_text(json.dumps(summary, indent=1, default=str))
    # every Otsu config's F1 per set (large; for analysis, not committed)
    Path(a.out).with_suffix(".all.json").write_text(
        json.dumps({r["name"]: r["rods_otsu_all"] for r in results}))
    for row in summary["sets"]:
        print(json.dumps(row, default=str))
    print("shared:", shared, "mean F1 (real sets):", round(summary["shared_mean_f1_real"], 3))


if __name__ == "__main__":
    main()
