#!/usr/bin/env python3
"""Reference for the peaks stage's explicit border: scikit-image's
`peak_local_max(d2, labels=mask, min_distance=m, footprint=np.ones((s, s)), exclude_border=B)`
with an int B different from m, written as a small text fixture that tests/gpu/peaks.rs reads
(the Rust tests never need Python).

    pip install -r scripts/reference/requirements.txt
    python3 scripts/reference/check_peaks_border.py [--out tests/fixtures/peaks_border.txt]

The image handed to scikit-image is the *squared* Euclidean distance of the mask as integers
(`d2`, exactly what floodseg's peaks stage receives): the square root preserves order and
equality, so the peaks are those of the distance itself. Deterministic (fixed seeds): running it
twice gives the same file.

File format, one case after another:

    case NAME W H M S B
    mask   followed by H lines of W characters 0/1
    d2     followed by H lines of W space-separated integers
    peaks  followed by K lines "y x" (scikit-image's peaks, raster order) and a line "end"
"""
import argparse
import os

import numpy as np
from scipy import ndimage as ndi
from skimage.feature import peak_local_max

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def disks(h, w, seed, n, rmax):
    """Overlapping disks and boxes, some cut by the image edge."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    m = np.zeros((h, w), bool)
    for _ in range(n):
        cy, cx = rng.integers(-2, h + 2), rng.integers(-2, w + 2)
        r = int(rng.integers(2, rmax + 1))
        if rng.integers(0, 3) == 0:
            m |= (abs(yy - cy) <= r) & (abs(xx - cx) <= r // 2 + 1)
        else:
            m |= (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
    return m


def d2_of(mask):
    """Squared EDT as exact integers (scipy's EDT, squared and rounded: exact for these sizes)."""
    d = ndi.distance_transform_edt(mask)
    return np.rint(d * d).astype(np.int64)


# (name, mask, m, s, B); B != m everywhere, B = 0, 1, larger than half the image, larger than it
def cases():
    a = disks(36, 45, 1, 9, 7)
    b = disks(29, 23, 2, 7, 5)
    c = disks(40, 40, 3, 14, 4)
    full = np.ones((11, 13), bool)
    full[5, 6] = False  # a hole, so the distance has structure
    return [
        ("disks_m3_s7_b0", a, 3, 7, 0),
        ("disks_m3_s7_b1", a, 3, 7, 1),
        ("disks_m3_s7_b6", a, 3, 7, 6),
        ("disks_m2_s3_b0", b, 2, 3, 0),
        ("disks_m5_s4_b2", b, 5, 4, 2),
        ("disks_m1_s3_b4", c, 1, 3, 4),
        ("disks_m4_s9_b1", c, 4, 9, 1),
        ("full_m1_s3_b0", full, 1, 3, 0),
        ("full_m2_s5_b5", full, 2, 5, 5),
        ("disks_m2_s5_b12", b, 2, 5, 12),
        ("disks_m2_s5_b99", b, 2, 5, 99),
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "fixtures", "peaks_border.txt"))
    args = ap.parse_args()
    lines = []
    for name, mask, m, s, b in cases():
        h, w = mask.shape
        d2 = d2_of(mask)
        pk = peak_local_max(
            d2,
            labels=mask.astype(np.int64),
            min_distance=m,
            footprint=np.ones((s, s), bool),
            exclude_border=b,
        )
        pk = sorted((int(y), int(x)) for y, x in pk)
        # the default border (exclude_border=True, i.e. B = m) for comparison in the summary
        dflt = peak_local_max(
            d2, labels=mask.astype(np.int64), min_distance=m, footprint=np.ones((s, s), bool)
        )
        print(f"{name:<18} {w:>3}×{h:<3} m={m} s={s} B={b:<3} {len(pk):>3} peaks "
              f"({len(dflt)} with B=m)")
        lines.append(f"case {name} {w} {h} {m} {s} {b}")
        lines.append("mask")
        lines += ["".join("1" if v else "0" for v in row) for row in mask]
        lines.append("d2")
        lines += [" ".join(str(int(v)) for v in row) for row in d2]
        lines.append("peaks")
        lines += [f"{y} {x}" for y, x in pk]
        lines.append("end")
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
