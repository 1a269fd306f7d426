#!/usr/bin/env python3
"""Deterministic synthetic benchmark frames: dark touching cells on a bright noisy background.

    python3 make_data.py OUT_DIR

Writes OUT_DIR/cells_1024.tif, cells_2048.tif, cells_4096.tif (single 8-bit frames) and
OUT_DIR/stack_1024x100.tif (100 frames of 1024², one multi-page TIFF, uncompressed).

Each frame: background 200 with Gaussian noise (σ 12), one cell per 600 px² placed uniformly
(so many touch and overlap), each a disk of radius 6–15 px at intensity 60 with its own noise,
plus 0.05 % "pepper" pixels at 0 (single dark specks that the opening removes). Values are
clipped to 0–255. Same seed, same bytes: numpy's PCG64 (`default_rng`) with fixed seeds.
"""
import os
import sys

import numpy as np
import tifffile

SIZES = (1024, 2048, 4096)
STACK_SIDE, STACK_FRAMES = 1024, 100


def frame(side, seed):
    rng = np.random.default_rng(seed)
    img = rng.normal(200.0, 12.0, (side, side))
    cells = np.zeros((side, side), bool)
    n = side * side // 600
    cy = rng.integers(0, side, n)
    cx = rng.integers(0, side, n)
    r = rng.integers(6, 16, n)
    for y, x, rr in zip(cy, cx, r):
        y0, y1 = max(y - rr, 0), min(y + rr + 1, side)
        x0, x1 = max(x - rr, 0), min(x + rr + 1, side)
        yy, xx = np.ogrid[y0:y1, x0:x1]
        disk = (yy - y) ** 2 + (xx - x) ** 2 < rr * rr
        cells[y0:y1, x0:x1] |= disk
    img[cells] = rng.normal(60.0, 12.0, int(cells.sum()))
    pepper = rng.random((side, side)) < 0.0005
    img[pepper] = 0.0
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for side in SIZES:
        path = os.path.join(out, f"cells_{side}.tif")
        if not os.path.exists(path):
            tifffile.imwrite(path, frame(side, side))
    path = os.path.join(out, f"stack_{STACK_SIDE}x{STACK_FRAMES}.tif")
    if not os.path.exists(path):
        tmp = path + ".part"
        with tifffile.TiffWriter(tmp) as tw:
            for t in range(STACK_FRAMES):
                tw.write(frame(STACK_SIDE, 100_000 + t), contiguous=False)
        os.replace(tmp, path)


if __name__ == "__main__":
    main()
