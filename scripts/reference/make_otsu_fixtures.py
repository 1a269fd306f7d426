#!/usr/bin/env python3
"""scikit-image 0.26's `threshold_otsu` on every input kind floodseg reads, for
tests/stages/threshold.rs.

    pip install -r scripts/reference/requirements.txt
    python3 scripts/reference/make_otsu_fixtures.py [--out tests/fixtures/otsu]

What "the image" is for each kind (floodseg's documented meaning, README `--threshold`):

    gray u8/u16 (+ alpha)   the samples of the first channel, as integers (bincount histogram)
    RGB/RGBA u8/u16         (2125 R + 7154 G + 721 B) / 10000 as float64: rgb2gray x 255
                            (x 65535), computed exactly in integers and divided once
    gray float32            the float32 samples (numpy.histogram, 256 bins, float32 edges)

and the reference level is `skimage.filters.threshold_otsu(image)`. A float32 image whose range
is too narrow for 256 float32 bins makes numpy raise "Too many bins for data range"; there the
reference is `threshold_otsu(image.astype(float64))` (the `f64` flag below), which is what
floodseg does instead of failing.

Writes (all deterministic; running twice gives identical files):

    images/<case>.tif|png   small committed images: constructed ties and near-ties, two values,
                            one value, random 8/16-bit gray, RGB(A) and float32 images
    levels.txt              one line per committed image and per bundled image in data/
    random.txt              one line per generated image (the images are not committed)

Line format (whitespace separated, '#' starts a comment):

    levels.txt:  case kind path level above [flag]
    random.txt:  gen seed level above [flag]

`level` is `repr(float(threshold_otsu(image)))` (exact: float32 and integer levels are exact
float64 values, and repr round-trips); `above` is `count_nonzero(image > level)`, the size of
floodseg's bright mask; `flag` is `f64` for the fallback above. For RGB cases levels.txt also
notes `user=<level> diff=<n>`: the level of `threshold_otsu(rgb2gray(img[..., :3]) * 255)` (what
lecture_pipeline.py loads; float sums instead of exact integers) and how many pixels its mask
classifies differently from the exact one. The test ignores these notes.

The generators (`gen` in random.txt; implemented identically in tests/stages/threshold.rs):

    SplitMix64 seeded with `seed`; draw k (k = 1, 2, ...) is mix(seed + k * 0x9E3779B97F4A7C15)
    (mod 2^64), mix(z) = z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27;
    z *= 0x94D049BB133111EB; z ^ (z >> 31). below(n) = draw % n.

    header, in this order: w = 4 + below(597), h = 4 + below(597), frac = below(1001),
    m0 = below(full + 1), m1 = below(full + 1), s0 = below(full // 4 + 1),
    s1 = below(full // 4 + 1); full = 255 for u8 and rgb8, 65535 otherwise. Then
      f32:        map = below(len(F32_MAPS))
      rgb8/rgb16: channels = 3 + below(2), t_r, t_g, t_b = below(full // 4 + 1) - full // 8,
                  alpha = below(full + 1)
    pixels, raster order, 3 draws each (6 for rgb): d0, d1, d2 [, d3, d4, d5]
      (m, s) = (m1, s1) if d0 % 1000 < frac else (m0, s0)
      v = clamp(m + d1 % (s + 1) + d2 % (s + 1) - s, 0, full)
      u8/u16: v;   f32: float32(float64(v) * mul + add) with (mul, add) = F32_MAPS[map]
      rgb: channel j = clamp(v + t_j + d_(3+j) % (q + 1) - q // 2, 0, full), q = full // 16;
           a fourth channel (alpha, ignored by both) = alpha when channels = 4
"""
import argparse
import os
import sys
import warnings

import numpy as np
import tifffile
from PIL import Image
from skimage.color import rgb2gray
from skimage.filters import threshold_otsu

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

GAMMA = 0x9E3779B97F4A7C15
M64 = (1 << 64) - 1
F32_MAPS = [
    (1.0 / 65535.0, 0.0),  # img_as_float of a 16-bit image
    (1.0, 0.0),  # integral floats
    (0.001, -30.0),  # negative and positive
    (1.0e6, 0.0),  # large
    (1.0e-30, 0.0),  # tiny: (mean1 - mean2)**2 underflows in float32
    (2.0**-23, 1.0),  # a few float32 steps above 1.0
    (-3.0e-3, 100.0),  # reversed
]
# seeds per generator in random.txt
RANDOM = [("u16", 1, 361), ("u8", 1001, 121), ("rgb8", 2001, 61), ("rgb16", 3001, 41),
          ("f32", 4001, 121)]


def mix(z):
    """SplitMix64's output function on a uint64 array (wrapping arithmetic)."""
    z = z ^ (z >> np.uint64(30))
    z = z * np.uint64(0xBF58476D1CE4E5B9)
    z = z ^ (z >> np.uint64(27))
    z = z * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


class Stream:
    def __init__(self, seed):
        self.seed = seed & M64
        self.k = 0

    def draws(self, count):
        """The next `count` draws as a uint64 array."""
        k = np.arange(self.k + 1, self.k + 1 + count, dtype=np.uint64)
        self.k += count
        with np.errstate(over="ignore"):
            return mix(np.uint64(self.seed) + k * np.uint64(GAMMA))

    def below(self, n):
        return int(self.draws(1)[0]) % n


def generate(gen, seed, size=None):
    """The generated image of (gen, seed) as the array a reader would return; `size` = (h, w)
    replaces the drawn size (the header is drawn all the same)."""
    r = Stream(seed)
    full = 255 if gen in ("u8", "rgb8") else 65535
    w = 4 + r.below(597)
    h = 4 + r.below(597)
    frac = r.below(1001)
    m0, m1 = r.below(full + 1), r.below(full + 1)
    s0, s1 = r.below(full // 4 + 1), r.below(full // 4 + 1)
    if size is not None:
        h, w = size
    if gen == "f32":
        mul, add = F32_MAPS[r.below(len(F32_MAPS))]
    rgb = gen.startswith("rgb")
    if rgb:
        channels = 3 + r.below(2)
        tint = [r.below(full // 4 + 1) - full // 8 for _ in range(3)]
        alpha = r.below(full + 1)
    per = 6 if rgb else 3
    raw = r.draws(w * h * per).reshape(h * w, per)
    pop = (raw[:, 0] % np.uint64(1000)).astype(np.int64) < frac
    m = np.where(pop, m1, m0)
    s = np.where(pop, s1, s0).astype(np.uint64)
    v = (m + (raw[:, 1] % (s + np.uint64(1))).astype(np.int64)
         + (raw[:, 2] % (s + np.uint64(1))).astype(np.int64) - s.astype(np.int64))
    v = np.clip(v, 0, full)
    if gen in ("u8", "u16"):
        return v.reshape(h, w).astype(np.uint8 if full == 255 else np.uint16)
    if gen == "f32":
        return (v.astype(np.float64) * mul + add).astype(np.float32).reshape(h, w)
    q = full // 16
    chans = [np.clip(v + tint[j] + (raw[:, 3 + j] % np.uint64(q + 1)).astype(np.int64) - q // 2,
                     0, full) for j in range(3)]
    if channels == 4:
        chans.append(np.full(h * w, alpha, np.int64))
    return np.stack(chans, axis=-1).reshape(h, w, channels).astype(
        np.uint8 if full == 255 else np.uint16)


def values(img):
    """floodseg's gray values of a decoded image: (array, kind)."""
    if img.dtype == np.float32:
        return img if img.ndim == 2 else img[..., 0], "f32"
    bits = 8 if img.dtype == np.uint8 else 16
    if img.ndim == 3 and img.shape[-1] >= 3:
        rgb = img[..., :3].astype(np.int64)
        keys = 2125 * rgb[..., 0] + 7154 * rgb[..., 1] + 721 * rgb[..., 2]
        kind = ("rgba" if img.shape[-1] == 4 else "rgb") + str(bits)
        return keys.astype(np.float64) / 10000.0, kind
    gray = img if img.ndim == 2 else img[..., 0]
    return gray, ("ga" if img.ndim == 3 else "u") + str(bits)


def otsu(v):
    """(level, above, flag) of floodseg's values `v`."""
    flag = ""
    try:
        level = threshold_otsu(v)
    except ValueError as e:
        if "Too many bins" not in str(e):
            raise
        level, flag = threshold_otsu(v.astype(np.float64)), "f64"
    above = int(np.count_nonzero(v > level))
    return float(level), above, flag


def user_note(img, level):
    """For RGB: the level and mask of threshold_otsu(rgb2gray(img) * full)."""
    full = 255.0 if img.dtype == np.uint8 else 65535.0
    g = rgb2gray(img[..., :3]) * full
    u = threshold_otsu(g)
    v, _ = values(img)
    diff = int(np.count_nonzero((g > u) != (v > level)))
    return f"user={float(u)!r} diff={diff}"


def old_floodseg_level(v):
    """floodseg's level before this fixture existed: scikit-image's formulas in float64 (counts
    and cumulative sums as float64). Only for choosing near-tie cases, not written anywhere."""
    if np.issubdtype(v.dtype, np.integer):
        lo, hi = int(v.min()), int(v.max())
        if lo == hi:
            return float(lo)
        counts = np.bincount((v.astype(np.int64) - lo).ravel()).astype(np.float64)
        centers = np.arange(lo, hi + 1, dtype=np.float64)
    else:
        counts, edges = np.histogram(v.astype(np.float64), bins=256)
        counts = counts.astype(np.float64)
        centers = (edges[:-1] + edges[1:]) / 2.0
    w1 = np.cumsum(counts)
    w2 = np.cumsum(counts[::-1])[::-1]
    m1 = np.cumsum(counts * centers) / w1
    m2 = (np.cumsum((counts * centers)[::-1]) / w2[::-1])[::-1]
    var = w1[:-1] * w2[1:] * (m1[:-1] - m2[1:]) ** 2
    return float(centers[np.argmax(var)])


def near_ties(gen, want, first_seed, size):
    """The first `want` generated images of `size` (seeds from `first_seed` on) where float32
    accumulation changes the level: scikit-image's level differs from old_floodseg_level's."""
    out, seed = [], first_seed
    while len(out) < want:
        img = generate(gen, seed, size)
        v, _ = values(img)
        if old_floodseg_level(v) != otsu(v)[0]:
            out.append((seed, img))
        seed += 1
    return out


def constructed():
    """(case, image) for the committed images."""
    cases = []
    rng = np.random.default_rng(20260101)

    def shuffled(vals_counts, shape, dtype):
        px = np.concatenate([np.full(c, v) for v, c in vals_counts])
        assert px.size == shape[0] * shape[1]
        rng.shuffle(px)
        return px.reshape(shape).astype(dtype)

    # one value; two values (all splits between them are the same partition: the first bin wins)
    cases.append(("u8_single", np.full((5, 7), 77, np.uint8)))
    cases.append(("u16_single_1x1", np.full((1, 1), 40000, np.uint16)))
    cases.append(("u8_two_values", shuffled([(10, 300), (200, 100)], (20, 20), np.uint8)))
    cases.append(("u8_two_values_equal", shuffled([(3, 50), (4, 50)], (10, 10), np.uint8)))
    cases.append(("u16_two_values", shuffled([(1000, 4000), (60000, 5000)], (90, 100), np.uint16)))
    # exact ties of two different partitions: symmetric histograms a|b c and a b|c
    cases.append(("u8_symmetric_tie", shuffled([(50, 40), (100, 20), (150, 40)], (10, 10),
                                                np.uint8)))
    cases.append(("u16_symmetric_tie", shuffled([(100, 3000), (30000, 1000), (59900, 3000)],
                                                 (70, 100), np.uint16)))
    cases.append(("u16_symmetric_tie_big", shuffled([(0, 6000), (1, 4384), (2, 6000)],
                                                     (128, 128), np.uint16)))
    cases.append(("u8_symmetric_5", shuffled([(0, 700), (1, 500), (2, 400), (3, 500), (4, 700)],
                                             (50, 56), np.uint8)))
    # a u8 and a u16 image where float32 accumulation picks another level than float64
    for seed, img in near_ties("u16", 2, 1, (100, 100)):
        cases.append((f"u16_near_tie_{seed}", img))
    for seed, img in near_ties("u8", 1, 1, (160, 160)):
        cases.append((f"u8_near_tie_{seed}", img))
    # small random images of every kind
    cases.append(("u8_random", rng.integers(0, 256, (31, 17)).astype(np.uint8)))
    cases.append(("u16_random", rng.integers(0, 65536, (23, 29)).astype(np.uint16)))
    ga = np.stack([rng.integers(20, 90, (19, 23)), rng.integers(0, 256, (19, 23))], -1)
    cases.append(("ga8_random", ga.astype(np.uint8)))
    cases.append(("rgb8_random", rng.integers(0, 256, (21, 33, 3)).astype(np.uint8)))
    cases.append(("rgba8_random", rng.integers(0, 256, (27, 19, 4)).astype(np.uint8)))
    cases.append(("rgb16_random", rng.integers(0, 65536, (25, 22, 3)).astype(np.uint16)))
    cases.append(("rgba16_random", rng.integers(0, 65536, (17, 26, 4)).astype(np.uint16)))
    cases.append(("rgb8_single", np.broadcast_to(np.array([50, 50, 50], np.uint8),
                                                 (6, 9, 3)).copy()))
    two = np.zeros((12, 10, 3), np.uint8)
    two[...] = (20, 40, 60)
    two[:6] = (200, 180, 160)
    cases.append(("rgb8_two_colours", two))
    cases.append(("rgb16_random_dark", rng.integers(0, 900, (33, 21, 3)).astype(np.uint16)))
    # float32
    cases.append(("f32_single", np.full((4, 6), 0.25, np.float32)))
    cases.append(("f32_two_values", shuffled([(0.125, 30), (0.875, 10)], (5, 8), np.float32)))
    cases.append(("f32_random_unit", rng.random((29, 31)).astype(np.float32)))
    cases.append(("f32_random_signed", (rng.standard_normal((24, 26)) * 1e3).astype(np.float32)))
    cases.append(("f32_integral_0_255", rng.integers(0, 256, (30, 30)).astype(np.float32)))
    cases.append(("f32_huge", (rng.choice([-1.0, 1.0], (16, 16)) * 1e30
                               * rng.uniform(0.5, 1.0, (16, 16))).astype(np.float32)))
    cases.append(("f32_tiny", (rng.random((20, 20)) * 1e-30).astype(np.float32)))
    cases.append(("f32_subnormal", (rng.integers(1, 4000, (18, 18)) * 2.0**-149)
                  .astype(np.float32)))
    narrow = (1.0 + rng.integers(0, 100, (15, 15)) * 2.0**-23).astype(np.float32)
    cases.append(("f32_narrow_too_many_bins", narrow))
    near = (1.0 + rng.integers(0, 300, (15, 15)) * 2.0**-23).astype(np.float32)
    cases.append(("f32_narrow_300_steps", near))
    z = rng.random((12, 12)).astype(np.float32) - np.float32(0.5)
    z[0, :6] = -0.0
    z[1, :6] = 0.0
    cases.append(("f32_signed_zeros", z))
    for seed, img in near_ties("f32", 1, 4001, (100, 100)):
        cases.append((f"f32_near_tie_{seed}", img))
    return cases


# bundled images in data/: (path, reader)
BUNDLED = [
    "data/omnipose/e1t1_crop.tif",
    "data/omnipose/ec_5I_t141xy5c1.tif",
    "data/colicoords/ds1/00001_brightfield.tif",
    "data/colicoords/ds1/00002_brightfield.tif",
    "data/colicoords/ds1/00004_brightfield.tif",
    "data/colicoords/brightfield.tif",
    "data/supersegger/2014_05_30_controlagaint001xy1c1.tif",
    "data/ecoli.png",
    "data/ecoli/img_0000.tif",
    "data/ecoli/img_0010.tif",
    "data/omnipose/Sample000033.png",
    "data/omnipose/Sample000193_gray.png",
    "data/omnipose/Sample000252_crop.png",
    "data/omnipose/ecoli_phase.tif",
    "data/lecture-disks.png",
    "data/lecture-noisy.png",
    "data/generated/rgb16.tif",
    "data/generated/rgba8_packbits.tif",
    "data/generated/gray16_tiled.tif",
    "data/generated/gray32f_bigtiff.tif",
    "data/generated/graya8.tif",
]


def read(path):
    full = os.path.join(REPO, path)
    if path.endswith(".png"):
        return np.asarray(Image.open(full))
    try:
        return tifffile.imread(full)
    except ValueError:  # LZW needs imagecodecs; pillow decodes these 8-bit RGB files
        return np.asarray(Image.open(full))


def write(path, img):
    if path.endswith(".png"):
        mode = {2: "LA", 3: "RGB", 4: "RGBA"}.get(img.shape[-1] if img.ndim == 3 else 0, "L")
        Image.fromarray(img, mode).save(path, optimize=False)
    else:
        extra = {}
        if img.ndim == 3 and img.shape[-1] >= 3:
            extra["photometric"] = "rgb"
            if img.shape[-1] == 4:
                extra["extrasamples"] = ["unassalpha"]
        elif img.ndim == 3:
            extra["photometric"] = "minisblack"
            extra["extrasamples"] = ["unassalpha"]
        else:
            extra["photometric"] = "minisblack"
        tifffile.imwrite(path, img, compression="zlib", **extra)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "fixtures", "otsu"))
    a = ap.parse_args()
    warnings.simplefilter("ignore")  # threshold_otsu warns on (h, w, 3)-shaped images
    os.makedirs(os.path.join(a.out, "images"), exist_ok=True)

    lines = ["# case kind path level above [flag] [notes] -- make_otsu_fixtures.py"]

    def add(case, path, img):
        v, kind = values(img)
        level, above, flag = otsu(v)
        extra = [flag] if flag else []
        if kind.startswith("rgb"):
            extra.append(user_note(img, level))
        lines.append(" ".join([case, kind, path, repr(level), str(above)] + extra))
        print(lines[-1])

    for case, img in constructed():
        ext = ".png" if img.dtype == np.uint8 and img.ndim == 3 and case.startswith(("rgb", "ga")) \
            else ".tif"
        rel = f"tests/fixtures/otsu/images/{case}{ext}"
        write(os.path.join(a.out, "images", case + ext), img)
        back = read(rel) if a.out == os.path.join(REPO, "tests", "fixtures", "otsu") else img
        assert back.dtype == img.dtype and np.array_equal(back, img), case
        add(case, rel, img)
    for path in BUNDLED:
        if not os.path.exists(os.path.join(REPO, path)):
            sys.exit(f"{path} is missing")
        add(os.path.basename(path).rsplit(".", 1)[0], path, read(path))
    with open(os.path.join(a.out, "levels.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")

    rows = ["# gen seed level above [flag] -- make_otsu_fixtures.py (generators in its docstring)"]
    differ = {}
    for gen, first, count in RANDOM:
        for seed in range(first, first + count):
            img = generate(gen, seed)
            v, _ = values(img)
            level, above, flag = otsu(v)
            rows.append(" ".join([gen, str(seed), repr(level), str(above)] + ([flag] if flag else [])))
            if old_floodseg_level(v) != level:
                differ[gen] = differ.get(gen, 0) + 1
    with open(os.path.join(a.out, "random.txt"), "w") as f:
        f.write("\n".join(rows) + "\n")
    print(f"{len(lines) - 1} images, {len(rows) - 1} generated; float64 accumulation differs on",
          ", ".join(f"{g}: {differ.get(g, 0)}/{c}" for g, _, c in RANDOM))


if __name__ == "__main__":
    main()
