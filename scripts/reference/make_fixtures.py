#!/usr/bin/env python3
"""Generate floodseg's scikit-image reference fixtures under tests/fixtures/.

    pip install -r scripts/reference/requirements.txt
    python3 scripts/reference/make_fixtures.py [--out tests/fixtures] [--only NAME ...]

For every case this writes tests/fixtures/<case>/:

    input.png | input.tif   the input image, exactly the bytes the reference pipeline reads
    args.txt                one line of floodseg CLI flags, e.g.
                            --threshold 180 --dark --open 1 --min-distance 10 --footprint 10
    count.txt               the object count (number of markers) scikit-image found
    mask.tif opened.tif distance2.tif peaks.tif markers.tif labels.tif
                            the stage outputs of lecture_pipeline.run() (uncompressed TIFF)

Everything is deterministic (fixed numpy seeds, one generator per case), so re-running with the
pinned versions reproduces the same bytes. The lecture cases built from data/lecture-disks.png and
data/lecture-noisy.png are skipped, with a message, while those files do not exist.
"""
import argparse
import os
import shutil
import sys

import numpy as np
import tifffile
import imageio.v3 as iio
from scipy import ndimage as ndi
from skimage import draw

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import lecture_pipeline  # noqa: E402

ECOLI = "/work/shared/data/real/biodisco-ecoli/ecoli.png"
ECOLI_IN_REPO = os.path.join(REPO, "data", "ecoli.png")  # used when the shared copy is absent
DATA = {"dir": os.path.join(REPO, "data")}  # --data overrides (lecture-disks.png, lecture-noisy.png)
STAGES = ("mask", "opened", "distance2", "peaks", "markers", "labels")


# --------------------------------------------------------------------------- image synthesis

def ellipses(rng, shape, n, rmin, rmax, elong=1.0):
    """Boolean mask of n random (possibly touching / overlapping) ellipses."""
    h, w = shape
    m = np.zeros(shape, bool)
    for _ in range(n):
        r = rng.uniform(rmin, rmax)
        e = rng.uniform(1.0, elong)
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        rr, cc = draw.ellipse(cy, cx, r * e, r / e, shape=shape, rotation=rng.uniform(-np.pi, np.pi))
        m[rr, cc] = True
    return m


def touching_disks(rng, shape, n, rmin, rmax, labelled=False):
    """Disks placed in touching / slightly overlapping chains: each new disk (after the first)
    is put next to an earlier one, at a distance of 0.8..1.05 times the sum of the radii.
    labelled=True returns a label image (disk i+1; later disks overwrite earlier ones)."""
    h, w = shape
    m = np.zeros(shape, np.int32)
    placed = []
    for i in range(n):
        r = rng.uniform(rmin, rmax)
        if placed and rng.uniform() < 0.8:
            py, px, pr = placed[rng.integers(len(placed))]
            a = rng.uniform(0, 2 * np.pi)
            d = (r + pr) * rng.uniform(0.8, 1.05)
            cy, cx = py + d * np.sin(a), px + d * np.cos(a)
        else:
            cy, cx = rng.uniform(r, h - r), rng.uniform(r, w - r)
        placed.append((cy, cx, r))
        rr, cc = draw.disk((cy, cx), r, shape=shape)
        m[rr, cc] = i + 1
    return m if labelled else m > 0


def capsule(shape, y0, x0, y1, x1, r):
    """Boolean mask of a capsule (all points within r of the segment (y0,x0)-(y1,x1))."""
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]].astype(np.float64)
    dy, dx = y1 - y0, x1 - x0
    L2 = dy * dy + dx * dx
    t = np.clip(((yy - y0) * dy + (xx - x0) * dx) / L2, 0, 1) if L2 > 0 else 0
    py, px = y0 + t * dy, x0 + t * dx
    return (yy - py) ** 2 + (xx - px) ** 2 <= r * r


def rods(rng, shape, n, rmin, rmax, lmin, lmax, touch_pairs=2):
    """Random rods (capsules) of random orientation; the first touch_pairs rods each get a
    partner that starts at (or just inside) one of its end caps, so some rods touch."""
    h, w = shape
    m = np.zeros(shape, bool)
    ends = []
    for i in range(n):
        r = rng.uniform(rmin, rmax)
        L = rng.uniform(lmin, lmax)
        a = rng.uniform(0, np.pi)
        if i % 2 == 1 and i // 2 < touch_pairs and ends:
            (ey, ex, er) = ends[-1]
            b = a + rng.uniform(0.5, 2.5)  # leave at an angle from the partner's end
            d = (er + r) * rng.uniform(0.85, 1.0)
            y0, x0 = ey + d * np.sin(b), ex + d * np.cos(b)
        else:
            y0, x0 = rng.uniform(0.1 * h, 0.9 * h), rng.uniform(0.1 * w, 0.9 * w)
        y1, x1 = y0 + L * np.sin(a), x0 + L * np.cos(a)
        m |= capsule(shape, y0, x0, y1, x1, r)
        ends.append((y1, x1, r))
    return m


def render(rng, mask, fg, bg, blur=0.0, noise=0.0, dtype=np.uint8, lo=None, hi=None):
    """Intensity image: fg inside the mask, bg outside, optional Gaussian blur and noise."""
    img = np.where(mask, float(fg), float(bg))
    if blur > 0:
        img = ndi.gaussian_filter(img, blur)
    if noise > 0:
        img = img + rng.normal(0.0, noise, img.shape)
    info = np.iinfo(dtype)
    lo = info.min if lo is None else lo
    hi = info.max if hi is None else hi
    return np.clip(np.rint(img), lo, hi).astype(dtype)


def tint(rng, mask_labels, bg_rgb, colours, noise=0.0, blur=0.0):
    """RGB u8 image: each labelled object in its own colour on a coloured background."""
    h, w = mask_labels.shape
    img = np.empty((h, w, 3), np.float64)
    img[...] = bg_rgb
    for k in range(1, mask_labels.max() + 1):
        img[mask_labels == k] = colours[(k - 1) % len(colours)]
    if blur > 0:
        for c in range(3):
            img[..., c] = ndi.gaussian_filter(img[..., c], blur)
    if noise > 0:
        img += rng.normal(0.0, noise, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- cases
# Each case: name -> dict(make=callable(rng) -> image | ("copy", path), ext, seed, threshold,
# dark, open, md, fp). A callable may also return None when its source file is missing.

CASES = []


def case(name, ext, threshold, dark, open_k, md, fp=None, seed=0, make=None, note="", zlib=False):
    """zlib=True writes a TIFF input Deflate-compressed (tifffile compression='zlib')."""
    CASES.append(dict(name=name, ext=ext, threshold=threshold, dark=dark, open=open_k, md=md,
                      fp=fp, seed=seed, make=make, note=note, zlib=zlib))


# blobs: touching disks / ellipses, bright-on-dark and dark-on-bright, u8 and u16
case("blobs_1", "png", 128, False, 0, 3, None, seed=101, note="u8 bright disks, clean",
     make=lambda g: render(g, touching_disks(g, (61, 47), 7, 4, 8), 200, 30))
case("blobs_2", "png", 140, True, 1, 5, 7, seed=102, note="u8 dark disks, noise",
     make=lambda g: render(g, touching_disks(g, (101, 89), 12, 5, 11), 60, 210, blur=1.0, noise=18))
case("blobs_3", "tif", 20000, False, 2, 7, 10, seed=103, note="u16 bright ellipses, noise",
     make=lambda g: render(g, ellipses(g, (107, 113), 12, 5, 11, 1.6), 30000, 8000, blur=1.2,
                           noise=3500, dtype=np.uint16))
case("blobs_4", "tif", 25000, True, 0, 2, 3, seed=104, note="u16 dark disks, noise",
     make=lambda g: render(g, touching_disks(g, (97, 53), 10, 3, 7), 9000, 42000, blur=0.8,
                           noise=4000, dtype=np.uint16))
case("blobs_5", "tif", 120, True, 3, 10, None, seed=105, note="u8 TIFF (zlib) dark disks, noise", zlib=True,
     make=lambda g: render(g, touching_disks(g, (83, 79), 10, 6, 11), 50, 190, blur=1.0, noise=20))
case("blobs_6", "png", 100, False, 1, 4, 4, seed=106, note="u8 bright ellipses, noise",
     make=lambda g: render(g, ellipses(g, (61, 79), 10, 4, 8, 1.8), 170, 40, blur=0.7, noise=22))
case("blobs_7", "tif", 30000, False, 0, 6, 10, seed=107, note="u16 bright ellipses, clean",
     make=lambda g: render(g, ellipses(g, (59, 67), 8, 5, 10, 1.5), 50000, 5000, dtype=np.uint16))
case("blobs_8", "png", 128, True, 2, 8, 7, seed=108, note="u8 dark disks, heavy noise",
     make=lambda g: render(g, touching_disks(g, (79, 71), 8, 5, 10), 70, 190, blur=1.0, noise=35))
case("blobs_9", "png", 90, False, 0, 1, 4, seed=109, note="u8 bright, md 1, even fp",
     make=lambda g: render(g, ellipses(g, (53, 59), 10, 3, 6, 1.3), 160, 20, blur=0.6, noise=12))

# rods: noisy dark capsules on a bright background
case("rods_u8_1", "png", 150, True, 1, 5, None, seed=201, note="u8 rods",
     make=lambda g: render(g, rods(g, (73, 83), 7, 3, 4.5, 12, 24), 70, 225, blur=1.0, noise=15))
case("rods_u8_2", "tif", 160, True, 2, 7, 10, seed=202, note="u8 TIFF rods, noisier",
     make=lambda g: render(g, rods(g, (79, 73), 7, 3.5, 5, 14, 26, 3), 80, 230, blur=1.3, noise=28))
case("rods_u8_3", "png", 140, True, 0, 4, 7, seed=203, note="u8 thin rods, open 0",
     make=lambda g: render(g, rods(g, (61, 79), 7, 2.2, 3.5, 10, 22), 60, 220, blur=0.8, noise=14))
case("rods_u16_1", "tif", 26000, True, 1, 6, None, seed=211, note="u16 rods 3000..48000",
     make=lambda g: render(g, rods(g, (71, 79), 6, 3, 5, 12, 24), 7000, 44000, blur=1.0,
                           noise=3000, dtype=np.uint16, lo=3000, hi=48000))
case("rods_u16_2", "tif", 22000, True, 2, 8, 10, seed=212, note="u16 TIFF (zlib) rods, noisier", zlib=True,
     make=lambda g: render(g, rods(g, (67, 89), 7, 3.5, 5, 14, 26, 3), 6000, 40000, blur=1.4,
                           noise=5000, dtype=np.uint16, lo=3000, hi=48000))
case("rods_u16_3", "tif", 30000, True, 0, 3, 4, seed=213, note="u16 rods, open 0, small md",
     make=lambda g: render(g, rods(g, (71, 67), 6, 3, 4, 10, 20), 9000, 46000, blur=0.8,
                           noise=2500, dtype=np.uint16, lo=3000, hi=48000))


# RGB: colour-tinted blobs (gray = rgb2gray*255)
def _rgb1(g):
    lab = touching_disks(g, (87, 73), 9, 5, 10, labelled=True)  # touching disks differ in colour
    return tint(g, lab, (235, 225, 245), [(90, 40, 120), (40, 90, 60), (120, 60, 30), (60, 60, 140)],
                noise=8, blur=0.7)


def _rgb2(g):
    m = ellipses(g, (57, 83), 9, 5, 9, 1.4)
    lab, _ = ndi.label(m)
    rgb = tint(g, lab, (30, 20, 40), [(250, 200, 90), (140, 240, 160), (200, 150, 255)], noise=10, blur=0.8)
    alpha = np.full(m.shape + (1,), 255, np.uint8)
    alpha[: m.shape[0] // 3] = 180  # alpha must be ignored
    return np.concatenate([rgb, alpha], axis=2)


case("rgb_1", "png", 137, True, 1, 5, None, seed=301, note="RGB dark tinted disks", make=_rgb1)
case("rgb_2", "png", 93, False, 0, 4, 7, seed=302, note="RGBA bright tinted ellipses", make=_rgb2)


# degenerate and edge cases
def _one(g):
    return np.zeros((1, 1), np.uint8)


def _row(g):
    img = np.full((1, 37), 220, np.uint8)
    img[0, 0:3] = 20
    img[0, 8:17] = 30
    img[0, 30:37] = 10
    return img


def _col(g):
    img = np.full((41, 1), 15, np.uint8)
    img[5:12, 0] = 240
    img[20:33, 0] = 250
    img[40, 0] = 200
    return img


def _strip(g):
    m = np.zeros((5, 61), bool)
    m[1:4, 3:10] = True
    m[0:5, 14:22] = True
    m[2, 26:40] = True
    m[1:4, 44:52] = True
    m[1:4, 52:58] = True
    m[3, 54] = False
    return render(g, m, 230, 10)


def _allfg(g):
    return np.full((23, 19), 10, np.uint8)


def _empty(g):
    return render(g, np.zeros((29, 31), bool), 200, 20, noise=10)


def _thin(g):
    m = np.zeros((48, 56), bool)
    m[5, 3:40] = True                     # 1-px horizontal
    m[10:12, 6:50] = True                 # 2-px horizontal
    m[16:44, 8] = True                    # 1-px vertical
    m[16:44, 14:16] = True                # 2-px vertical
    for t in range(22):                   # 1-px diagonal
        m[20 + t, 22 + t] = True
    for t in range(18):                   # 2-px wide (4-connected) diagonal
        m[18 + t, 50 - t] = True
        m[18 + t, 49 - t] = True
    m[45, 20:54] = True                   # 1-px line near the bottom edge
    return render(g, m, 20, 230)


def _border(g):
    shape = (73, 67)
    m = np.zeros(shape, bool)
    for (cy, cx, r) in [(0, 0, 12), (0, 33, 9), (36, 66, 14), (72, 10, 11), (72, 60, 8),
                        (30, -3, 10), (36, 33, 10), (50, 44, 8), (15, 52, 7)]:
        rr, cc = draw.disk((cy, cx), r, shape=shape)
        m[rr, cc] = True
    return render(g, m, 210, 40, noise=6)


def _plateau(g):
    m = np.zeros((40, 60), bool)
    m[6:15, 5:55] = True      # odd height 9: a one-row ridge of equal values
    m[22:32, 8:40] = True     # even height 10: a two-row ridge
    m[20:36, 44:56] = True    # 16x12 block
    return render(g, m, 30, 220)


def _plateau_touch(g):
    m = np.zeros((45, 70), bool)
    m[8:30, 6:28] = True      # two equal squares joined by a neck: equal maxima on both sides
    m[8:30, 40:62] = True
    m[17:21, 28:40] = True
    return render(g, m, 200, 25)


case("one_by_one", "png", 128, True, 0, 1, None, note="1x1 foreground", make=_one)
case("row_1xN", "png", 128, True, 0, 1, None, note="1x37", make=_row)
case("col_Nx1", "tif", 128, False, 0, 1, 3, note="41x1 u8 TIFF", make=_col)
case("col_Nx1_open1", "tif", 128, False, 1, 1, None, note="41x1, open 1 erases everything", make=_col)
case("strip_5x61", "png", 128, False, 0, 1, 3, note="5x61, md 1", make=_strip)
case("all_foreground", "png", 128, True, 0, 3, None, note="no background: SciPy's phantom point", make=_allfg)
case("all_foreground_fp4", "tif", 128, True, 1, 2, 4, note="no background, open 1, even fp", make=_allfg)
case("empty", "png", 128, False, 0, 2, None, seed=401, note="no object at all", make=_empty)
case("thin_lines", "png", 128, True, 0, 2, None, note="1-2 px lines: trivial-image branch", make=_thin)
case("thin_lines_fp3", "png", 128, True, 0, 5, 3, note="1-2 px lines, md 5, fp 3", make=_thin)
case("border_objects", "png", 128, False, 0, 12, None, seed=402, note="objects at the edges, md 12",
     make=_border)
case("border_objects_fp10", "png", 128, False, 1, 9, 10, seed=402, note="edges, md 9, fp 10",
     make=_border)
case("plateau", "png", 128, True, 0, 3, None, note="rectangles: plateau ridges, ties", make=_plateau)
case("plateau_fp4", "png", 128, True, 0, 2, 4, note="rectangles, md 2, fp 4", make=_plateau)
case("plateau_touch", "png", 100, False, 0, 5, 10, note="two equal squares with a neck",
     make=_plateau_touch)


# the lecture's images
def _copy(path):
    return lambda g: ("copy", path) if os.path.exists(path) else None


def _data(name):
    return lambda g: _copy(os.path.join(DATA["dir"], name))(g)


case("ecoli", "png", 180, True, 1, 10, 10, note="lecture ecoli.png (expect 3)",
     make=lambda g: _copy(ECOLI if os.path.exists(ECOLI) else ECOLI_IN_REPO)(g))
case("lecture_disks", "png", 180, True, 0, 10, 10, note="lecture disks (expect 3)", make=_data("lecture-disks.png"))
case("lecture_noisy_k0", "png", 180, True, 0, 10, 10, note="lecture noisy, k=0", make=_data("lecture-noisy.png"))
case("lecture_noisy_k5", "png", 180, True, 5, 10, 10, note="lecture noisy, k=5 (expect 3)",
     make=_data("lecture-noisy.png"))


# --------------------------------------------------------------------------- driver

def fmt_threshold(t):
    return str(int(t)) if float(t).is_integer() else repr(float(t))


def args_line(c):
    s = f"--threshold {fmt_threshold(c['threshold'])}"
    if c["dark"]:
        s += " --dark"
    s += f" --open {c['open']} --min-distance {c['md']}"
    if c["fp"] is not None:
        s += f" --footprint {c['fp']}"
    return s


def write_input(path, img, zlib=False):
    if path.endswith(".png"):
        iio.imwrite(path, img, extension=".png")
    else:
        tifffile.imwrite(path, img, compression="zlib" if zlib else None)


def run_case(c, out_root):
    rng = np.random.default_rng(c["seed"])
    res = c["make"](rng)
    if res is None:
        print(f"SKIP {c['name']}: source image not found (re-run after it exists)")
        return None
    d = os.path.join(out_root, c["name"])
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    inp = os.path.join(d, "input." + c["ext"])
    if isinstance(res, tuple) and res[0] == "copy":
        shutil.copyfile(res[1], inp)
    else:
        write_input(inp, res, c["zlib"])
    # the bytes on disk are what counts: read them back as the reference does
    raw = tifffile.imread(inp) if inp.endswith(".tif") else iio.imread(inp)
    if not isinstance(res, tuple):
        assert raw.dtype == res.dtype and np.array_equal(raw, res), f"{c['name']}: input round trip"
    gray = lecture_pipeline.load(inp)
    if raw.ndim == 3:
        # exact-integer gray vs rgb2gray float: the masks must agree pixel for pixel
        assert raw.dtype == np.uint8, "RGB fixtures are 8-bit"
        rgb = raw[..., :3].astype(np.int64)
        exact = 2125 * rgb[..., 0] + 7154 * rgb[..., 1] + 721 * rgb[..., 2]
        t = c["threshold"] * 10000
        em = exact < t if c["dark"] else exact > t
        fm = gray < c["threshold"] if c["dark"] else gray > c["threshold"]
        ties = int(np.count_nonzero(exact == t))
        near = float(np.min(np.abs(gray - c["threshold"])))
        if not np.array_equal(em, fm) or ties:
            raise SystemExit(f"{c['name']}: threshold {c['threshold']} hits exact gray values "
                             f"({ties} ties, {int(np.count_nonzero(em != fm))} mask differences); "
                             f"choose another threshold")
        print(f"  {c['name']}: exact-integer and rgb2gray masks agree; closest gray to the "
              f"threshold is {near:.4f} away")
    n = lecture_pipeline.run(inp, d, c["threshold"], c["dark"], c["open"], c["md"], c["fp"])
    with open(os.path.join(d, "args.txt"), "w") as f:
        f.write(args_line(c) + "\n")
    with open(os.path.join(d, "count.txt"), "w") as f:
        f.write(f"{n}\n")
    labels = tifffile.imread(os.path.join(d, "labels.tif"))
    mask = tifffile.imread(os.path.join(d, "mask.tif"))
    opened = tifffile.imread(os.path.join(d, "opened.tif"))
    nl = len(np.unique(labels[labels > 0]))
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    return dict(name=c["name"], shape=f"{raw.shape[0]}x{raw.shape[1]}" + (f"x{raw.shape[2]}" if raw.ndim == 3 else ""),
                dtype=str(raw.dtype), ext=c["ext"], args=args_line(c), n=n, nl=nl,
                fg=int(mask.sum()), op=int(opened.sum()), lab=int((labels > 0).sum()),
                size=size, note=c["note"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "fixtures"))
    ap.add_argument("--only", nargs="*", help="case names to (re)generate")
    ap.add_argument("--data", default=DATA["dir"], help="folder with lecture-disks.png, lecture-noisy.png")
    a = ap.parse_args()
    DATA["dir"] = a.data
    os.makedirs(a.out, exist_ok=True)
    rows = []
    for c in CASES:
        if a.only and c["name"] not in a.only:
            continue
        r = run_case(c, a.out)
        if r:
            rows.append(r)
    hdr = (f"{'case':22} {'size':10} {'dtype':6} {'count':>5} {'lab':>4} {'mask':>6} {'opened':>6} "
           f"{'labelled':>8} {'bytes':>7}  args")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        print(f"{r['name']:22} {r['shape']:10} {r['dtype']:6} {r['n']:5} {r['nl']:4} {r['fg']:6} {r['op']:6} "
              f"{r['lab']:8} {r['size']:7}  {r['args']}")
    total = 0
    for root, _, files in os.walk(a.out):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
    print(f"total size of {a.out}: {total} bytes ({total / 2**20:.2f} MiB)")


if __name__ == "__main__":
    main()
