#!/usr/bin/env python3
"""Check `floodseg eval` against StarDist's `stardist.matching.matching` / `matching_dataset`.

    pip install stardist          # only its matching module is used (no TensorFlow needed)
    python3 check_eval.py [--cases 200] [--seed 1] [--floodseg target/release/floodseg]
    python3 check_eval.py --write-fixture tests/fixtures/eval   # the committed Rust test's data

Random pairs of label images (touching blobs; the prediction splits, merges, shifts, grows,
drops and invents objects, and relabels non-sequentially) and random stacks of them are scored
by both at IoU thresholds 0.05 ... 1.0 (low thresholds make the optimal assignment matter).
Counts (tp, fp, fn) must be identical; ratios agree to 1e-6 (StarDist sums IoUs in float32).
"""
import argparse, json, os, subprocess, sys, tempfile
import numpy as np
import tifffile
from scipy import ndimage as ndi
from stardist.matching import matching, matching_dataset

THRESHOLDS = [0.05, 0.1, 0.25, 0.3, 0.5, 0.6, 0.75, 0.9, 1.0]
KEYS = ["tp", "fp", "fn", "precision", "recall", "f1", "mean_matched_iou", "panoptic_quality"]


def blobs(rng, h, w, n):
    """Touching blobs: a Voronoi split of thresholded smooth noise."""
    fg = ndi.gaussian_filter(rng.random((h, w)), 3) > 0.5
    seeds = np.zeros((h, w), np.int32)
    for k in range(1, n + 1):
        seeds[rng.integers(h), rng.integers(w)] = k
    _, (iy, ix) = ndi.distance_transform_edt(seeds == 0, return_indices=True)
    lab = seeds[iy, ix] * fg
    return lab.astype(np.uint32)


def perturb(rng, gt):
    pred = gt.copy()
    labels = [l for l in np.unique(gt) if l]
    nxt = int(gt.max()) + 1
    for l in labels:
        r = rng.random()
        m = pred == l
        if r < 0.1:
            pred[m] = 0  # missed
        elif r < 0.2:  # split in two along a random line
            ys, xs = np.nonzero(m)
            cut = (ys - ys.mean()) * rng.normal() + (xs - xs.mean()) * rng.normal() > 0
            pred[ys[cut], xs[cut]] = nxt; nxt += 1
        elif r < 0.35:  # grow or shrink
            pred[ndi.binary_dilation(m, iterations=int(rng.integers(1, 3))) & (pred == 0)] = l
            if rng.random() < 0.5:
                pred[m & ~ndi.binary_erosion(m, iterations=2)] = 0
        elif r < 0.45:  # merge with a neighbour
            grown = ndi.binary_dilation(m) & (pred != l) & (pred != 0)
            if grown.any():
                pred[pred == pred[grown][0]] = l
        elif r < 0.55:  # shift
            dy, dx = rng.integers(-3, 4, 2)
            pred[m] = 0
            pred[np.roll(np.roll(m, dy, 0), dx, 1) & (pred == 0)] = l
    for _ in range(int(rng.integers(0, 4))):  # invented objects
        y, x = rng.integers(0, gt.shape[0] - 4), rng.integers(0, gt.shape[1] - 4)
        pred[y:y + 4, x:x + 4][pred[y:y + 4, x:x + 4] == 0] = nxt; nxt += 1
    # non-sequential relabelling
    perm = rng.permutation(nxt * 3)[:nxt] + 1
    out = np.where(pred > 0, perm[np.minimum(pred, nxt - 1)], 0).astype(np.uint32)
    return out


def stardist_rows(gt_list, pred_list):
    rows = []
    for t in THRESHOLDS:
        if len(gt_list) == 1:
            m = matching(gt_list[0], pred_list[0], thresh=t)
        else:
            m = matching_dataset(gt_list, pred_list, thresh=t, show_progress=False, by_image=False)
        rows.append(dict(iou=t, tp=int(m.tp), fp=int(m.fp), fn=int(m.fn), precision=float(m.precision),
                         recall=float(m.recall), f1=float(m.f1),
                         mean_matched_iou=float(m.mean_matched_score),
                         panoptic_quality=float(m.panoptic_quality)))
    return rows


def write_stack(path, frames):
    # one page per frame (photometric minisblack, so 3 frames are not read as planar RGB)
    tifffile.imwrite(path, np.stack(frames) if len(frames) > 1 else frames[0],
                     photometric="minisblack", compression="zlib")


def floodseg_rows(binary, gt_path, pred_path):
    out = subprocess.run([binary, "eval", "--gt", gt_path, "--pred", pred_path, "--json",
                          "--iou", ",".join(map(str, THRESHOLDS))],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return [json.loads(line) for line in out.stdout.splitlines()]


def compare(a, b):
    """Largest float difference; raises on a count mismatch."""
    worst = 0.0
    for ra, rb in zip(a, b):
        for k in ("tp", "fp", "fn"):
            if ra[k] != rb[k]:
                raise AssertionError(f"iou {ra['iou']}: {k} {ra[k]} vs {rb[k]}")
        for k in KEYS[3:]:
            worst = max(worst, abs(ra[k] - rb[k]))
    return worst


def make_case(rng):
    frames = int(rng.choice([1, 1, 1, 3]))
    h, w = int(rng.integers(16, 90)), int(rng.integers(16, 90))
    gts = [blobs(rng, h, w, int(rng.integers(1, 25))) for _ in range(frames)]
    return gts, [perturb(rng, g) for g in gts]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--floodseg", default="target/release/floodseg")
    ap.add_argument("--write-fixture", metavar="DIR")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)

    if a.write_fixture:
        os.makedirs(a.write_fixture, exist_ok=True)
        for k in range(8):
            gts, preds = make_case(rng)
            write_stack(os.path.join(a.write_fixture, f"case{k}_gt.tif"), gts)
            write_stack(os.path.join(a.write_fixture, f"case{k}_pred.tif"), preds)
            with open(os.path.join(a.write_fixture, f"case{k}_stardist.json"), "w") as f:
                for r in stardist_rows(gts, preds):
                    f.write(json.dumps(r) + "\n")
        print(f"wrote 8 cases to {a.write_fixture}")
        return

    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for case in range(a.cases):
            gts, preds = make_case(rng)
            g, p = os.path.join(tmp, "gt.tif"), os.path.join(tmp, "pred.tif")
            write_stack(g, gts); write_stack(p, preds)
            try:
                worst = max(worst, compare(floodseg_rows(a.floodseg, g, p), stardist_rows(gts, preds)))
            except AssertionError as e:
                sys.exit(f"case {case}: {e}")
    print(f"{a.cases} cases x {len(THRESHOLDS)} thresholds: counts identical, "
          f"largest difference of a ratio {worst:.2g}")
    sys.exit(0 if worst <= 1e-6 else 1)


if __name__ == "__main__":
    main()
