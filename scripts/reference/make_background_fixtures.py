#!/usr/bin/env python3
"""Fixtures for `--background R`: scikit-image/SciPy's top-hat on a 16-bit test image.

Writes tests/fixtures/background/input.tif (uint16, 70×53: a tilted, vignetted background
with dark and bright blobs and noise) and, for each (polarity, R) below,
tests/fixtures/background/<polarity>_r<R>.tif (uint32) holding

    dark:   65535 - (grey_closing(img, size=(2R+1, 2R+1)) - img)
    bright: img - grey_opening(img, size=(2R+1, 2R+1))

(scipy.ndimage, default mode='reflect'). floodseg's `cpu::background::flatten` with
key_max 65535 must give the same values (tests/gpu/background.rs).

    python3 scripts/reference/make_background_fixtures.py

Versions as in scripts/reference/requirements.txt. Deterministic (fixed seed).
"""
from pathlib import Path

import numpy as np
import tifffile
from scipy import ndimage as ndi

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "background"
CASES = [("dark", 1), ("dark", 3), ("dark", 8), ("bright", 2), ("bright", 5), ("bright", 40)]


def main():
    rng = np.random.default_rng(5)
    h, w = 53, 70
    yy, xx = np.mgrid[0:h, 0:w]
    bg = 30000 + 120 * xx + 40 * yy - 6 * ((yy - 26) ** 2 + (xx - 35) ** 2)
    img = bg.astype(np.float64)
    for _ in range(9):
        cy, cx, r = rng.integers(0, h), rng.integers(0, w), rng.integers(2, 6)
        depth = rng.choice([-1, 1]) * rng.integers(3000, 12000)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] += depth
    img += rng.normal(0, 400, img.shape)
    img = np.clip(img, 0, 65535).astype(np.uint16)
    OUT.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(OUT / "input.tif", img)
    v = img.astype(np.int64)
    for pol, r in CASES:
        size = (2 * r + 1, 2 * r + 1)
        if pol == "dark":
            out = 65535 - (ndi.grey_closing(v, size=size) - v)
        else:
            out = v - ndi.grey_opening(v, size=size)
        assert out.min() >= 0 and out.max() <= 65535
        tifffile.imwrite(OUT / f"{pol}_r{r}.tif", out.astype(np.uint32))
        print(f"{pol} R={r}: {out.min()}..{out.max()}")


if __name__ == "__main__":
    main()
