#!/usr/bin/env python3
"""Outside references for floodseg modes that the lecture pipeline does not have.

    python3 scripts/reference/make_mode_fixtures.py

It reads the committed lecture fixtures in tests/fixtures/<case>/ (input, args.txt, opened.tif,
markers.tif, labels.tif) and writes three folders. tests/stages/skimage_agreement.rs
(flood_intensity), tests/stages/smooth.rs (smooth) and tests/stages/filter.rs (shape_filters)
compare floodseg's CPU twin with them. The GPU is compared with the twin elsewhere.

flood_intensity/<case>.tif  (`--flood intensity`)
    skimage.segmentation.watershed(image, markers, mask=opened) as uint32 (Deflate).
    `image` is the gray keys floodseg floods:
      - u8 and u16 input: the samples themselves;
      - RGB(A): 2125 R + 7154 G + 721 B, which is rgb2gray x 10 000 with the alpha channel ignored.
    With --dark the image is the keys (dark pixels flood first). Without it, the image is the
    negated keys (bright pixels flood first). This is what cpu::watershed::ws_altitude encodes as
    "larger floods first".
    The markers are the fixture's own markers.tif (scikit-image's ndi.label of its peaks).

smooth/<case>_p<N>.tif  (`--smooth N`)
    N passes of the [1 2 1]/4 binomial on the same keys, as uint32 (Deflate). Each pass filters
    the rows, rounds, then filters the columns and rounds:
    scipy.ndimage.correlate1d(keys, [1, 2, 1], axis, mode='nearest') on int64, then
    (sum + 2) >> 2. That is round half up with the edge pixels replicated. The order (rows, then
    columns, pass after pass) matters because of the rounding.

shape_filters/<case>.csv  (`--min-eccentricity`, `--max-width`)
    skimage.measure.regionprops of the fixture's scikit-image labels.tif.
    Columns: label, eccentricity, minor_axis_length, written with repr (exact float64).
    The test derives keep/drop decisions from these values at thresholds between neighbouring
    values.

Versions as in scripts/reference/requirements.txt (scikit-image 0.26.0, SciPy 1.17.1).
The script is deterministic: it takes no random input, and Deflate output from one zlib is
reproducible.
"""
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import tifffile
from scipy import ndimage as ndi
from skimage.measure import regionprops
from skimage.segmentation import watershed

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures"

SMOOTH_CASES = ["blobs_2", "rods_u16_1", "rgb_1", "rgb_2", "one_by_one", "row_1xN", "col_Nx1",
                "strip_5x61"]
SMOOTH_PASSES = [1, 2, 5]
SHAPE_CASES = ["blobs_1", "blobs_3", "blobs_6", "blobs_9", "rods_u8_1", "rods_u8_2", "rods_u8_3",
               "rods_u16_1", "rods_u16_3", "lecture_noisy_k0", "thin_lines", "strip_5x61",
               "plateau", "ecoli"]


def cases():
    return sorted(p for p in FIX.iterdir() if (p / "args.txt").exists())


def keys_of(case):
    """floodseg's gray keys of the case's input (int64)."""
    inp = next(case.glob("input.*"))
    raw = tifffile.imread(inp) if inp.suffix == ".tif" else iio.imread(inp)
    if raw.ndim == 3:
        assert raw.dtype == np.uint8, f"{case.name}: RGB fixtures are 8-bit"
        rgb = raw[..., :3].astype(np.int64)
        return 2125 * rgb[..., 0] + 7154 * rgb[..., 1] + 721 * rgb[..., 2]
    assert raw.dtype in (np.uint8, np.uint16), f"{case.name}: {raw.dtype}"
    return raw.astype(np.int64)


def flood_intensity(out):
    out.mkdir(exist_ok=True)
    for case in cases():
        markers = tifffile.imread(case / "markers.tif").astype(np.int32)
        if markers.max() == 0:
            continue  # nothing to flood
        opened = tifffile.imread(case / "opened.tif").astype(bool)
        dark = "--dark" in (case / "args.txt").read_text().split()
        keys = keys_of(case)
        image = keys if dark else -keys
        labels = watershed(image, markers, mask=opened).astype(np.uint32)
        tifffile.imwrite(out / f"{case.name}.tif", labels, compression="zlib")
        print(f"flood_intensity {case.name}: {markers.max()} markers, "
              f"{np.count_nonzero(labels)} labelled pixels")


def smooth_once(k):
    for axis in (1, 0):
        s = ndi.correlate1d(k, np.array([1, 2, 1], np.int64), axis=axis, mode="nearest")
        k = (s + 2) >> 2
    return k


def smooth(out):
    out.mkdir(exist_ok=True)
    for name in SMOOTH_CASES:
        k = keys_of(FIX / name)
        done = 0
        for n in SMOOTH_PASSES:
            while done < n:
                k = smooth_once(k)
                done += 1
            assert k.min() >= 0 and k.max() < 2**32
            tifffile.imwrite(out / f"{name}_p{n}.tif", k.astype(np.uint32), compression="zlib")
        print(f"smooth {name}: {k.shape[1]}x{k.shape[0]}, passes {SMOOTH_PASSES}")


def shape_filters(out):
    out.mkdir(exist_ok=True)
    for name in SHAPE_CASES:
        labels = tifffile.imread(FIX / name / "labels.tif").astype(np.int64)
        rows = ["label,eccentricity,minor_axis_length"]
        for r in regionprops(labels):
            rows.append(f"{r.label},{float(r.eccentricity)!r},{float(r.axis_minor_length)!r}")
        (out / f"{name}.csv").write_text("\n".join(rows) + "\n")
        print(f"shape_filters {name}: {len(rows) - 1} objects")


def main():
    flood_intensity(FIX / "flood_intensity")
    smooth(FIX / "smooth")
    shape_filters(FIX / "shape_filters")


if __name__ == "__main__":
    main()
