#!/usr/bin/env python3
"""Generate the scikit-image fixtures of floodseg's maxima stage under tests/fixtures/maxima/.

    pip install -r scripts/reference/requirements.txt
    python3 scripts/reference/make_maxima_fixtures.py [--out tests/fixtures/maxima]

For every case this writes tests/fixtures/maxima/<case>/:

    fg.tif        u8 0/1: the (opened) mask
    d2.tif        u32: rint(distance_transform_edt(fg)**2)
    regional.tif  u8 0/1: local_maxima(where(fg, d2, 0), connectivity=2, allow_borders=True) & fg
    hmax_H.tif    u8 0/1, one per H in H_VALUES (H = the height in half-pixels):
                  f = isqrt(4*d2) (exact integer math) on fg,
                  R = reconstruction(where(fg, f, 0), where(fg, f + H, 0), method='dilation',
                                     footprint=ones((3, 3))),
                  local_maxima(where(fg, R, 0), connectivity=2, allow_borders=True) & fg

The TIFFs are single-page, Deflate-compressed (tifffile `compression='zlib'`). Everything is
deterministic (one fixed numpy seed per case). The Rust test (tests/stages/maxima.rs) reads these
files and needs no Python. Border exclusion (`--exclude-border`) is not part of the fixtures: it is
a plain crop of the markers, tested in Rust.
"""
import argparse
import os

import numpy as np
import tifffile
from scipy import ndimage as ndi
from skimage import draw
from skimage.morphology import local_maxima, reconstruction

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
H_VALUES = (0, 1, 2, 3, 5, 8)


def isqrt_exact(v):
    """floor(sqrt(v)) for a non-negative int64 array, corrected with integer checks."""
    v = v.astype(np.int64)
    s = np.floor(np.sqrt(v.astype(np.float64))).astype(np.int64)
    while True:
        hi = s * s > v
        if not hi.any():
            break
        s[hi] -= 1
    while True:
        lo = (s + 1) * (s + 1) <= v
        if not lo.any():
            break
        s[lo] += 1
    return s


def disks_and_rods():
    """64×64: touching disks of several radii, two rods (one touching a disk), a small disk."""
    fg = np.zeros((64, 64), bool)
    for cy, cx, r in [(14, 14, 9), (14, 30, 8), (26, 22, 6), (50, 50, 10), (52, 12, 3)]:
        rr, cc = draw.disk((cy, cx), r, shape=fg.shape)
        fg[rr, cc] = True
    fg[40:45, 4:40] = True  # horizontal rod
    rr, cc = draw.polygon([30, 34, 62, 58], [40, 36, 58, 62], shape=fg.shape)  # diagonal rod
    fg[rr, cc] = True
    return fg


def random_blobs(seed, shape=(40, 40), n=9):
    rng = np.random.default_rng(seed)
    fg = np.zeros(shape, bool)
    for _ in range(n):
        r = rng.uniform(2.0, 7.0)
        e = rng.uniform(1.0, 1.8)
        cy, cx = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
        rr, cc = draw.ellipse(cy, cx, r * e, r / e, shape=shape, rotation=rng.uniform(-np.pi, np.pi))
        fg[rr, cc] = True
    return fg


def row(width=37):
    fg = np.zeros((1, width), bool)
    fg[0, 2:15] = True
    fg[0, 17:36] = True
    return fg


CASES = {
    "disks_rods_64": disks_and_rods,
    "blobs_40_a": lambda: random_blobs(11),
    "blobs_40_b": lambda: random_blobs(12, n=14),
    "row_1x37": row,
}


def maxima_of(fg, v):
    m = local_maxima(np.where(fg, v, 0), connectivity=2, allow_borders=True)
    return (m & fg).astype(np.uint8)


def write(path, a):
    tifffile.imwrite(path, a, compression="zlib")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "fixtures", "maxima"))
    args = ap.parse_args()
    for name, make in CASES.items():
        fg = make()
        d2 = np.rint(ndi.distance_transform_edt(fg) ** 2).astype(np.int64)
        d2[~fg] = 0
        f = isqrt_exact(4 * d2)
        out = os.path.join(args.out, name)
        os.makedirs(out, exist_ok=True)
        write(os.path.join(out, "fg.tif"), fg.astype(np.uint8))
        write(os.path.join(out, "d2.tif"), d2.astype(np.uint32))
        reg = maxima_of(fg, d2)
        write(os.path.join(out, "regional.tif"), reg)
        counts = [f"regional {int(ndi.label(reg, np.ones((3, 3)))[1])}"]
        for h in H_VALUES:
            seed = np.where(fg, f, 0).astype(np.int64)
            mask = np.where(fg, f + h, 0).astype(np.int64)
            r = reconstruction(seed, mask, method="dilation", footprint=np.ones((3, 3)))
            r = np.rint(r).astype(np.int64)
            hm = maxima_of(fg, r)
            write(os.path.join(out, f"hmax_{h}.tif"), hm)
            counts.append(f"hmax_{h} {int(ndi.label(hm, np.ones((3, 3)))[1])}")
        print(f"{name} {fg.shape[1]}x{fg.shape[0]}: " + ", ".join(counts))


if __name__ == "__main__":
    main()
