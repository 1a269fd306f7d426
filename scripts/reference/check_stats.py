#!/usr/bin/env python3
"""Check floodseg's per-object CSV (`segment --stats`) against skimage.measure.regionprops_table.

    python3 check_stats.py INPUT LABELS OBJECTS_CSV [--rtol 1e-9] [--write-reference OUT.csv]

INPUT is what `floodseg segment` read: an image, a multi-page TIFF stack, or a folder of frames
(.tif/.tiff/.png in natural name order). LABELS is what it wrote: one label TIFF (a multi-page
stack for several frames) or a folder of per-frame label TIFFs. For every frame, regionprops_table
is run on the written labels with the input's gray image (rgb2gray x 255/65535 for RGB, as
lecture_pipeline.py loads it) and compared with the CSV's rows for that frame, column by column,
to a relative tolerance (absolute for values near 0; orientation compared as an axis, so
+pi/2 equals -pi/2). Exit status 0 when everything agrees.

--write-reference writes scikit-image's table in floodseg's CSV layout (for committed fixtures).
"""
import argparse, os, re, sys
import numpy as np
import tifffile
from skimage import io
from skimage.measure import regionprops_table

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lecture_pipeline import load  # noqa: E402

COLUMNS = ("frame,label,area,centroid_row,centroid_col,bbox_min_row,bbox_min_col,bbox_max_row,"
           "bbox_max_col,major_axis_length,minor_axis_length,orientation,eccentricity,"
           "mean_intensity").split(",")
SKIMAGE = {"label": "label", "area": "area", "centroid_row": "centroid-0",
           "centroid_col": "centroid-1", "bbox_min_row": "bbox-0", "bbox_min_col": "bbox-1",
           "bbox_max_row": "bbox-2", "bbox_max_col": "bbox-3",
           "major_axis_length": "axis_major_length", "minor_axis_length": "axis_minor_length",
           "orientation": "orientation", "eccentricity": "eccentricity",
           "mean_intensity": "intensity_mean"}


def natural_key(name):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def frame_files(folder, exts):
    names = [n for n in os.listdir(folder)
             if n.lower().endswith(exts) and not n.startswith(".")]
    return [os.path.join(folder, n) for n in sorted(names, key=natural_key)]


def gray_frames(path):
    if os.path.isdir(path):
        return [load(f) for f in frame_files(path, (".tif", ".tiff", ".png"))]
    if path.lower().endswith((".tif", ".tiff")):
        arr = tifffile.imread(path)
        if arr.ndim == 3 and arr.shape[-1] not in (3, 4):  # a stack of gray pages
            return [a.astype(np.float64) for a in arr]
        if arr.ndim == 4:  # a stack of RGB pages
            return [load_array(a) for a in arr]
    return [load(path)]


def load_array(a):
    from skimage.color import rgb2gray
    return rgb2gray(a[..., :3]) * (255.0 if a.dtype == np.uint8 else 65535.0)


def label_frames(path):
    if os.path.isdir(path):
        return [tifffile.imread(f) for f in frame_files(path, (".tif", ".tiff"))]
    arr = tifffile.imread(path)
    return list(arr) if arr.ndim == 3 else [arr]


def skimage_rows(labels, gray):
    t = regionprops_table(labels.astype(np.int64), intensity_image=gray,
                          properties=("label", "area", "centroid", "bbox", "axis_major_length",
                                      "axis_minor_length", "orientation", "eccentricity",
                                      "intensity_mean"))
    return [{c: float(t[SKIMAGE[c]][k]) for c in COLUMNS[1:]} for k in range(len(t["label"]))]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input"); ap.add_argument("labels"); ap.add_argument("csv")
    ap.add_argument("--rtol", type=float, default=1e-9)
    ap.add_argument("--write-reference", metavar="OUT.csv")
    a = ap.parse_args()

    grays, labels = gray_frames(a.input), label_frames(a.labels)
    if len(grays) != len(labels):
        sys.exit(f"{len(grays)} input frames but {len(labels)} label frames")
    want = [dict(frame=t, **row) for t, (lab, g) in enumerate(zip(labels, grays))
            for row in skimage_rows(lab, g)]
    if a.write_reference:
        with open(a.write_reference, "w") as f:
            f.write(",".join(COLUMNS) + "\n")
            for r in want:
                f.write(",".join(repr(int(r[c])) if c in ("frame", "label", "area")
                                 or c.startswith("bbox") else repr(r[c]) for c in COLUMNS) + "\n")

    import csv
    with open(a.csv, newline="") as f:
        rows = list(csv.DictReader(f))  # the file column may be quoted; µm columns are extra
        missing = [c for c in COLUMNS if rows and c not in rows[0]]
        if missing:
            sys.exit(f"{a.csv}: no column(s) {missing}")
        got = [{c: float(r[c]) for c in COLUMNS} for r in rows]
    if len(got) != len(want):
        sys.exit(f"{len(got)} rows in {a.csv}, {len(want)} objects in the labels")
    worst, where = 0.0, None
    for g, w in zip(got, want):
        for c in COLUMNS:
            scale = max(abs(w[c]), 1.0)
            diff = abs(g[c] - w[c])
            if c == "orientation":
                # an axis: +pi/2 and -pi/2 are the same one. For an object with mu11 == 0
                # floodseg's exact integer moments give +pi/2 where scikit-image's float moments
                # leave a ~1e-13 residue of either sign.
                diff = min(diff, abs(diff - np.pi))
            err = diff / scale
            if err > worst:
                worst, where = err, (int(w["frame"]), int(w["label"]), c, g[c], w[c])
    print(f"{len(got)} objects in {len(labels)} frames; largest relative difference {worst:.3g}"
          + (f" (frame {where[0]}, label {where[1]}, {where[2]}: {where[3]!r} vs {where[4]!r})"
             if where else ""))
    sys.exit(0 if worst <= a.rtol else 1)


if __name__ == "__main__":
    main()
