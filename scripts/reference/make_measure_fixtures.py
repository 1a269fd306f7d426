#!/usr/bin/env python3
"""regionprops fixtures for floodseg's measurements (`--stats`) on 16-bit, RGB and float input.

    pip install -r scripts/reference/requirements.txt
    python3 scripts/reference/make_measure_fixtures.py [--out tests/fixtures/measure]

For each case this writes tests/fixtures/measure/<case>/:

    image.tif or image.png   the intensity image: u16 gray, RGB u8 (PNG), RGB u16, float32 gray
    labels.tif               u16 labels (objects below), 0 = background
    objects_skimage.csv      skimage.measure.regionprops_table(labels, intensity_image=gray) in
                             floodseg's `--stats` layout (floodseg::measure::CSV_COLUMNS), one row
                             per label present; integers as integers, floats as repr

`gray` is the image as lecture_pipeline.py's load() reads it, i.e. in floodseg's input units:
the samples as float64 for gray and float32 images, rgb2gray(img) * 255 (8-bit) or * 65535
(16-bit) for RGB. (regionprops on the raw float32 array would average in float32 and agree only
to ~1e-7; floodseg sums float values in float64.)

The labels are the same drawing on every case, with objects chosen for the formulas' corner
cases: ellipses at several angles, an axis-aligned rectangle and a horizontal and a vertical
line (mixed moment 0: orientation +-pi/2 or 0), a square (equal variances, mixed moment 0: the
a == c branch), both diagonals (a == c with a mixed moment of either sign), a single pixel (all
moments 0), an object cut by the image edge, one label in two pieces, and a label number with no
pixel (absent from the table). Deterministic: one fixed numpy seed per case.
"""
import argparse
import os
import sys

import numpy as np
import tifffile
from PIL import Image
from skimage import draw

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from check_stats import COLUMNS, skimage_rows  # noqa: E402
from lecture_pipeline import load  # noqa: E402

SHAPE = (67, 83)


def labels():
    lab = np.zeros(SHAPE, np.uint16)

    def put(l, rr, cc):
        lab[rr, cc] = l

    put(1, *draw.ellipse(14, 16, 9, 4, shape=SHAPE, rotation=0.4))
    put(2, *draw.ellipse(15, 40, 10, 3, shape=SHAPE, rotation=-1.1))
    put(3, *draw.ellipse(45, 20, 6, 12, shape=SHAPE, rotation=2.5))
    lab[34:39, 50:70] = 4  # rectangle, mu11 = 0
    lab[5:12, 60:67] = 5  # square: a == c, mu11 = 0
    for i in range(9):  # main diagonal: a == c, mu11 > 0
        lab[50 + i, 45 + i] = 6
    for i in range(9):  # anti-diagonal: a == c, mu11 < 0
        lab[58 - i, 60 + i] = 7
    lab[40, 75] = 8  # one pixel
    put(9, *draw.disk((62, 80), 6, shape=SHAPE))  # cut by the bottom and right edges
    lab[0:3, 30:36] = 10  # two pieces of one label
    lab[20:24, 74:78] = 10
    # label 11 has no pixel
    lab[63, 2:30] = 12  # horizontal line
    lab[38:60, 38] = 13  # vertical line
    put(14, *draw.ellipse(25, 62, 3, 7, shape=SHAPE, rotation=0.8))
    return lab


def intensity(kind, seed, lab):
    rng = np.random.default_rng(seed)
    level = rng.uniform(0.2, 0.9, lab.max() + 1)  # per object
    level[0] = 0.1
    base = level[lab]
    if kind == "u16":
        return np.clip(base * 65535 + rng.normal(0, 3000, SHAPE), 0, 65535).astype(np.uint16)
    if kind in ("rgb8", "rgb16"):
        full = 255 if kind == "rgb8" else 65535
        tint = rng.uniform(0.7, 1.3, 3)
        img = base[..., None] * tint * full + rng.normal(0, 0.05 * full, SHAPE + (3,))
        return np.clip(img, 0, full).astype(np.uint8 if kind == "rgb8" else np.uint16)
    # float32: signed, not integral, some -0.0
    img = ((base - 0.5) * 1e3 + rng.normal(0, 30, SHAPE)).astype(np.float32)
    img[0, :5] = -0.0
    return img


CASES = [("u16", 11, "image.tif"), ("rgb8", 12, "image.png"), ("rgb16", 13, "image.tif"),
         ("f32", 14, "image.tif")]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "fixtures", "measure"))
    a = ap.parse_args()
    lab = labels()
    for kind, seed, name in CASES:
        d = os.path.join(a.out, kind)
        os.makedirs(d, exist_ok=True)
        img = intensity(kind, seed, lab)
        path = os.path.join(d, name)
        if name.endswith(".png"):
            Image.fromarray(img, "RGB").save(path, optimize=False)
        else:
            tifffile.imwrite(path, img, compression="zlib",
                             photometric="rgb" if img.ndim == 3 else "minisblack")
        tifffile.imwrite(os.path.join(d, "labels.tif"), lab, compression="zlib")
        gray = load(path)
        assert np.array_equal(np.asarray(Image.open(path)) if name.endswith(".png")
                              else tifffile.imread(path), img), kind
        rows = skimage_rows(tifffile.imread(os.path.join(d, "labels.tif")), gray)
        with open(os.path.join(d, "objects_skimage.csv"), "w") as f:
            f.write(",".join(COLUMNS[1:]) + "\n")
            for r in rows:
                f.write(",".join(repr(int(r[c])) if c in ("label", "area") or c.startswith("bbox")
                                 else repr(r[c]) for c in COLUMNS[1:]) + "\n")
        print(f"{kind}: {len(rows)} objects")


if __name__ == "__main__":
    main()
