#!/usr/bin/env python3
"""Fixtures for `--clear-border`: scikit-image's clear_border on the reference labels.

For each case below, reads tests/fixtures/<case>/labels.tif (scikit-image's watershed labels,
written by make_fixtures.py), applies

    relabel_sequential(clear_border(labels, buffer_size=B))[0]

for B in 0, 2 and 6, and writes tests/fixtures/clear_border/<case>_b<B>.tif (uint32,
Deflate). floodseg's filter (measure sums -> pipeline::object_table -> filter_relabel) must
give the same labels (tests/stages/filter.rs). relabel_sequential numbers the kept objects
1, 2, ... in the order of their old labels, as floodseg's filter does.

    python3 scripts/reference/make_clear_border_fixtures.py

Versions as in scripts/reference/requirements.txt (scikit-image 0.26.0). Deterministic.
"""
from pathlib import Path

import numpy as np
import tifffile
from skimage.segmentation import clear_border, relabel_sequential

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures"
CASES = ["border_objects", "border_objects_fp10", "blobs_1", "blobs_2", "blobs_3", "blobs_4",
         "blobs_6", "ecoli", "lecture_noisy_k0", "plateau", "rgb_1", "rods_u8_3", "rods_u16_3",
         "strip_5x61", "thin_lines"]
BORDERS = [0, 2, 6]


def main():
    out = FIX / "clear_border"
    out.mkdir(exist_ok=True)
    for case in CASES:
        labels = tifffile.imread(FIX / case / "labels.tif").astype(np.uint32)
        for b in BORDERS:
            if any(b >= s for s in labels.shape):
                cleared = np.zeros_like(labels)  # clear_border refuses; floodseg drops all
            else:
                cleared = clear_border(labels, buffer_size=b)
            cleared = relabel_sequential(cleared)[0].astype(np.uint32)
            tifffile.imwrite(out / f"{case}_b{b}.tif", cleared, compression="zlib")
            print(f"{case} B={b}: {labels.max()} -> {cleared.max()} objects")


if __name__ == "__main__":
    main()
