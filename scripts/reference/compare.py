#!/usr/bin/env python3
"""Compare floodseg with the scikit-image lecture pipeline, stage by stage.

    python3 compare.py IMAGE -- --threshold 180 --dark --open 1 --min-distance 10 --footprint 10
    python3 compare.py --random 60 [--seed S] [--keep DIR]

One image: runs `lecture_pipeline.run` (in process) and `floodseg segment --backend cpu
--save-stages` on IMAGE with the same flags and prints, per stage (mask, opened, distance2, peaks,
markers, labels), `identical` or the number of differing pixels and the first difference; for
labels, both object counts and the share of identical pixels among pixels that are foreground in
either labelling. Exits 1 when mask/opened/distance2/peaks/markers differ or the counts differ.

--random N: generates N fresh cases (its own generator, independent of make_fixtures.py): touching
disks/ellipses at odd sizes (bright-on-dark and dark-on-bright), noisy dark capsules ("rods") with
uneven illumination in 8-bit PNG/TIFF and 16-bit TIFF, RGB PNG blobs with fractional thresholds,
and degenerate images (1x1, 1xN, Nx1, all foreground, empty), with random open / min-distance /
footprint. Prints one row per case and totals. Exits 1 on any stage or count mismatch.

For labels below 99 % agreement it checks whether every differing pixel lies between two markers
of equal height (equal max d2 over the marker's pixels; floodseg's documented tie case), and
also whether the two markers reach the pixel at the same flood level (equal bottleneck d2 along
the best path inside the mask), i.e. whether the difference is a genuine tie.

Needs numpy, scipy, scikit-image, tifffile, imageio. floodseg: target/release/floodseg (built
with `cargo build --release` if missing), or --bin PATH.
"""
import argparse, heapq, io, os, shlex, subprocess, sys, tempfile, time
from contextlib import redirect_stdout

import numpy as np
import tifffile
import imageio.v3 as iio
from scipy import ndimage as ndi

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import lecture_pipeline  # noqa: E402

STAGES = ["mask", "opened", "distance2", "peaks", "markers"]


# ----------------------------------------------------------------------------- running

def parse_flags(flags):
    ap = argparse.ArgumentParser(prog="FLAGS")
    ap.add_argument("--threshold", type=str, required=True)
    ap.add_argument("--dark", action="store_true")
    ap.add_argument("--open", type=int, default=0)
    ap.add_argument("--min-distance", type=int, default=10)
    ap.add_argument("--footprint", type=int, default=None)
    return ap.parse_args(flags)


def run_reference(image, flags, out_dir):
    a = parse_flags(flags)
    with redirect_stdout(io.StringIO()):
        return lecture_pipeline.run(image, out_dir, float(a.threshold), a.dark, a.open,
                                    a.min_distance, a.footprint)


def run_floodseg(binary, image, flags, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    cmd = [binary, "segment", image, "-o", os.path.join(out_dir, "L.tif"), *flags,
           "--backend", "cpu", "--save-stages", out_dir]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        return None, f"floodseg exit {p.returncode}: {p.stderr.strip()[-300:]}"
    try:
        return int(p.stdout.split()[0]), None
    except (ValueError, IndexError):
        return None, f"floodseg stdout unparsable: {p.stdout!r}"


def first_diff(a, b):
    if a.shape != b.shape:
        return f"shape {a.shape} vs {b.shape}", -1
    d = a != b
    n = int(d.sum())
    if n == 0:
        return "identical", 0
    y, x = np.argwhere(d)[0]
    return f"{n} px differ, first (y={y},x={x}) ref={a[y, x]} ours={b[y, x]}", n


def bottleneck_from(marker_mask, d2, region):
    """Widest-path (max over paths of the min d2 along the path) from the marker pixels to every
    pixel of `region` (4-connectivity), by a max-heap Dijkstra. -1 where unreachable."""
    h, w = d2.shape
    best = np.full(d2.shape, -1, np.int64)
    heap = []
    for y, x in np.argwhere(marker_mask):
        v = int(d2[y, x])
        if v > best[y, x]:
            best[y, x] = v
            heap.append((-v, int(y), int(x)))
    heapq.heapify(heap)
    while heap:
        nv, y, x = heapq.heappop(heap)
        v = -nv
        if v < best[y, x]:
            continue
        for yy, xx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
            if 0 <= yy < h and 0 <= xx < w and region[yy, xx]:
                c = min(v, int(d2[yy, xx]))
                if c > best[yy, xx]:
                    best[yy, xx] = c
                    heapq.heappush(heap, (-c, yy, xx))
    return best


def tie_analysis(ref_l, our_l, markers, d2, opened):
    """(equal_marker_height, genuine_level_tie, n_bad_height, n_bad_level) over pixels whose labels
    differ. A pixel labelled by only one side counts as bad for both."""
    n = int(markers.max())
    height = np.zeros(n + 1, np.int64)
    if n:
        np.maximum.at(height, markers[markers > 0], d2[markers > 0].astype(np.int64))
    diff = ref_l != our_l
    ys, xs = np.nonzero(diff)
    a = ref_l[diff].astype(np.int64)
    b = our_l[diff].astype(np.int64)
    ok = (a > 0) & (b > 0) & (a <= n) & (b <= n)
    ok_h = ok.copy()
    ok_h[ok] = height[a[ok]] == height[b[ok]]
    # a multi-pixel marker (a diagonal staircase of peaks with min-distance 1) has several
    # heights: a weaker form asks only that the two markers have a pixel of the same d2
    levels = {}
    for lab in np.unique(np.concatenate([a[ok], b[ok]])):
        levels[int(lab)] = set(d2[markers == lab].tolist())
    ok_p = ok.copy()
    for i in np.nonzero(ok)[0]:
        ok_p[i] = bool(levels[int(a[i])] & levels[int(b[i])])
    # genuine tie: both markers reach the pixel at the same bottleneck level
    comp, _ = ndi.label(opened)
    cache = {}
    ok_l = ok.copy()
    for i in np.nonzero(ok)[0]:
        y, x = ys[i], xs[i]
        vals = []
        for lab in (a[i], b[i]):
            key = (int(lab), int(comp[y, x]))
            if key not in cache:
                cache[key] = bottleneck_from(markers == lab, d2, comp == comp[y, x])
            vals.append(cache[key][y, x])
        ok_l[i] = vals[0] == vals[1] and vals[0] >= 0
    return (bool(ok_h.all()), bool(ok_l.all()), int((~ok_h).sum()), int((~ok_l).sum()),
            bool(ok_p.all()), int((~ok_p).sum()))


def compare(binary, image, flags, work, verbose=True):
    """Run both tools; return a result dict."""
    ref_dir, our_dir = os.path.join(work, "ref"), os.path.join(work, "ours")
    t0 = time.time()
    ref_n = run_reference(image, flags, ref_dir)
    t1 = time.time()
    our_n, err = run_floodseg(binary, image, flags, our_dir)
    t2 = time.time()
    res = {"ref_n": ref_n, "our_n": our_n, "err": err, "stages": {}, "stage_ok": True,
           "t_ref": t1 - t0, "t_ours": t2 - t1}
    if err:
        res["stage_ok"] = False
        res["count_ok"] = False
        res["agree"] = None
        if verbose:
            print(err)
        return res
    rd = lambda d, s: tifffile.imread(os.path.join(d, s + ".tif"))
    for s in STAGES:
        msg, n = first_diff(rd(ref_dir, s), rd(our_dir, s))
        res["stages"][s] = (msg, n)
        if n != 0:
            res["stage_ok"] = False
        if verbose:
            print(f"  {s:<10} {msg}")
    ref_l = rd(ref_dir, "labels").astype(np.int64)
    our_l = rd(our_dir, "labels").astype(np.int64)
    ref_lab_n = len(np.unique(ref_l[ref_l > 0]))
    our_lab_n = len(np.unique(our_l[our_l > 0]))
    res["count_ok"] = ref_n == our_n and ref_lab_n == our_lab_n
    if ref_l.shape != our_l.shape:
        res["agree"], res["fg"], res["same"] = 0.0, 0, 0
        res["stage_ok"] = False
        if verbose:
            print(f"  labels     shape {ref_l.shape} vs {our_l.shape}")
        return res
    fg = (ref_l > 0) | (our_l > 0)
    same = int(((ref_l == our_l) & fg).sum())
    tot = int(fg.sum())
    res["fg"], res["same"] = tot, same
    res["agree"] = same / tot if tot else 1.0
    res["ties"] = None
    if tot and same < tot:
        res["ties"] = tie_analysis(ref_l, our_l, rd(our_dir, "markers").astype(np.int64),
                                   rd(ref_dir, "distance2").astype(np.int64),
                                   rd(ref_dir, "opened") > 0)
    if verbose:
        msg, _ = first_diff(ref_l, our_l)
        print(f"  labels     {msg}")
        print(f"  objects    ref {ref_n} (label image {ref_lab_n}), floodseg {our_n} "
              f"(label image {our_lab_n})" + ("" if res["count_ok"] else "  COUNT MISMATCH"))
        print(f"  agreement  {100 * res['agree']:.3f} % ({same}/{tot} foreground pixels)")
        if res["ties"] is not None:
            h, l, nh, nl, hp, nhp = res["ties"]
            print(f"  differing pixels: between markers of equal max height: {h} ({nh} px not); "
                  f"markers sharing a pixel height: {hp} ({nhp} px not); "
                  f"equal flood level from both markers: {l} ({nl} px not)")
    return res


# ----------------------------------------------------------------------------- generator

def ellipse_field(rng, h, w, n, rmin, rmax):
    """Boolean field of n random ellipses; centres partly chained so that some touch."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    field = np.zeros((h, w), bool)
    cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    for _ in range(n):
        a = rng.uniform(rmin, rmax)
        b = a * rng.uniform(0.55, 1.0) if rng.random() < 0.6 else a
        th = rng.uniform(0, np.pi)
        if rng.random() < 0.55:  # touch/overlap the previous one
            ang = rng.uniform(0, 2 * np.pi)
            step = rng.uniform(0.9, 1.6) * a
            cy, cx = cy + step * np.sin(ang), cx + step * np.cos(ang)
        else:
            cy, cx = rng.uniform(-0.1 * h, 1.1 * h), rng.uniform(-0.1 * w, 1.1 * w)
        dy, dx = yy - cy, xx - cx
        u = dx * np.cos(th) + dy * np.sin(th)
        v = -dx * np.sin(th) + dy * np.cos(th)
        field |= (u / a) ** 2 + (v / b) ** 2 <= 1.0
    return field


def capsule_field(rng, h, w, n, pairs=True):
    """Soft 'darkness' field in [0,1] of n capsules (rods), random orientation, some touching
    end to end or side by side."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    dark = np.zeros((h, w))
    k = 0
    while k < n:
        r = rng.uniform(2.2, 5.5)
        L = rng.uniform(1.5, 5.0) * r
        th = rng.uniform(0, np.pi)
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        group = [(cy, cx, th)]
        if pairs and rng.random() < 0.5:
            if rng.random() < 0.5:  # end to end (dividing cell)
                s = L + 2 * r * rng.uniform(0.8, 1.05)
                group.append((cy + s * np.sin(th), cx + s * np.cos(th), th + rng.normal(0, 0.15)))
            else:  # side by side
                s = 2 * r * rng.uniform(0.85, 1.05)
                group.append((cy + s * np.cos(th), cx - s * np.sin(th), th + rng.normal(0, 0.1)))
        for gy, gx, gt in group:
            ux, uy = np.cos(gt), np.sin(gt)
            px, py = xx - gx, yy - gy
            t = np.clip(px * ux + py * uy, -L / 2, L / 2)
            dist = np.hypot(px - t * ux, py - t * uy)
            dark = np.maximum(dark, np.clip(r + 0.5 - dist, 0, 1))
            k += 1
    return dark


def illumination(rng, h, w):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    gy, gx = rng.normal(0, 0.25, 2)
    c = rng.uniform(-0.15, 0.15)
    return 1.0 + gy * (yy / max(h, 1) - 0.5) + gx * (xx / max(w, 1) - 0.5) + c * np.cos(
        np.pi * xx / max(w, 1)) * np.sin(np.pi * yy / max(h, 1))


def rand_size(rng, lo=37, hi=251):
    return int(rng.integers(lo, hi + 1)), int(rng.integers(lo, 200))


def rand_params(rng):
    k = int(rng.integers(0, 4))
    m = int(rng.integers(1, 13))
    fp = None if rng.random() < 0.4 else int(rng.integers(1, 13))
    flags = ["--open", str(k), "--min-distance", str(m)]
    if fp is not None:
        flags += ["--footprint", str(fp)]
    return flags


def write_tiff(rng, path, arr):
    comp = rng.choice(["none", "zlib", "lzw", "packbits"])
    tifffile.imwrite(path, arr, compression=None if comp == "none" else str(comp))
    return comp


def gen_blobs(rng, d):
    h, w = rand_size(rng)
    f = ellipse_field(rng, h, w, int(rng.integers(3, 14)), 4, max(6, min(h, w) / 5))
    bright = rng.random() < 0.5
    lo, hi = sorted(rng.integers(10, 246, 2))
    if hi - lo < 40:
        lo, hi = 40, 200
    img = np.where(f, hi, lo) if bright else np.where(f, lo, hi)
    img = img + rng.normal(0, rng.uniform(0, 10), img.shape)
    img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    t = int(rng.integers(lo + 10, hi - 9))  # integer threshold: pixels may sit exactly on it
    ext = "png" if rng.random() < 0.5 else "tif"
    p = os.path.join(d, f"in.{ext}")
    note = ""
    if ext == "png":
        iio.imwrite(p, img)
    else:
        note = write_tiff(rng, p, img)
    flags = ["--threshold", str(t)] + ([] if bright else ["--dark"]) + rand_params(rng)
    return p, flags, "blobs " + ("bright" if bright else "dark") + (f" {note}" if note else "")


def gen_rods(rng, d, bits):
    h, w = rand_size(rng)
    dark = capsule_field(rng, h, w, int(rng.integers(3, 16)))
    ill = illumination(rng, h, w)
    if bits == 8:
        bg, depth, sd, top = rng.uniform(150, 220), rng.uniform(60, 120), rng.uniform(3, 12), 255
    else:
        bg, depth, sd, top = rng.uniform(20000, 40000), rng.uniform(9000, 17000), rng.uniform(
            300, 1500), 65535
    img = (bg - depth * dark) * ill + rng.normal(0, sd, (h, w))
    if bits == 16:
        img = np.clip(img, 3000, 48000)
    img = np.clip(np.rint(img), 0, top).astype(np.uint8 if bits == 8 else np.uint16)
    t = int(round(bg - depth * rng.uniform(0.3, 0.6)))
    if bits == 8:
        ext = "png" if rng.random() < 0.5 else "tif"
    else:
        ext = "tif" if rng.random() < 0.8 else "png"
    p = os.path.join(d, f"in.{ext}")
    note = ""
    if ext == "png":
        iio.imwrite(p, img)
    else:
        note = write_tiff(rng, p, img)
    flags = ["--threshold", str(t), "--dark"] + rand_params(rng)
    return p, flags, f"rods u{bits}" + (f" {note}" if note else "")


def gen_rgb(rng, d):
    h, w = rand_size(rng)
    f = ellipse_field(rng, h, w, int(rng.integers(3, 12)), 4, max(6, min(h, w) / 5))
    bright = rng.random() < 0.5
    bgc = rng.integers(0, 256, 3)
    fgc = rng.integers(0, 256, 3)
    key = lambda c: 2125 * int(c[0]) + 7154 * int(c[1]) + 721 * int(c[2])
    while abs(key(fgc) - key(bgc)) < 600000:
        bgc, fgc = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    img = np.where(f[..., None], fgc, bgc).astype(np.float64)
    img += rng.normal(0, rng.uniform(0, 12), img.shape)
    img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    i64 = img.astype(np.int64)
    keys = 2125 * i64[..., 0] + 7154 * i64[..., 1] + 721 * i64[..., 2]
    kf, kb = key(fgc), key(bgc)
    dark = kf < kb
    lo, hi = sorted((kf, kb))
    for _ in range(1000):
        t = round(rng.uniform(lo + 0.25 * (hi - lo), hi - 0.25 * (hi - lo)) / 10000, 1)
        if abs(t - round(t)) < 1e-9:
            t += 0.5
        # no pixel exactly on the threshold (exactly: key == 10000 t), nor within float noise
        if not np.any(keys == round(t * 10000)):
            break
    g = np.dot(img / 255.0, [0.2125, 0.7154, 0.0721]) * 255.0
    assert np.min(np.abs(g - t)) > 1e-6, "pixel on threshold"
    p = os.path.join(d, "in.png")
    iio.imwrite(p, img)
    flags = ["--threshold", f"{t:.1f}"] + (["--dark"] if dark else []) + rand_params(rng)
    return p, flags, "rgb blobs " + ("dark" if dark else "bright")


def gen_degenerate(rng, d, kind):
    if kind == "1x1 obj":
        img = np.array([[200]], np.uint8)
    elif kind == "1x1 bg":
        img = np.array([[20]], np.uint8)
    elif kind == "1xN":
        img = np.where(rng.random((1, int(rng.integers(5, 120)))) < 0.6, 200, 20).astype(np.uint8)
    elif kind == "Nx1":
        img = np.where(rng.random((int(rng.integers(5, 120)), 1)) < 0.6, 200, 20).astype(np.uint8)
    elif kind == "all fg":
        h, w = rand_size(rng, 3, 60)
        img = rng.integers(150, 256, (h, w)).astype(np.uint8)
    elif kind == "empty":
        h, w = rand_size(rng, 3, 60)
        img = rng.integers(0, 100, (h, w)).astype(np.uint8)
    elif kind == "2xN strip":
        w = int(rng.integers(5, 120))
        img = np.full((2, w), 200, np.uint8)
        img[:, rng.random(w) < 0.2] = 20
    else:  # Nx2 / Nx3 thin image
        h = int(rng.integers(5, 120))
        img = np.full((h, int(rng.integers(2, 4))), 200, np.uint8)
        img[rng.random(h) < 0.2, :] = 20
    ext = "tif" if rng.random() < 0.5 else "png"
    p = os.path.join(d, f"in.{ext}")
    tifffile.imwrite(p, img) if ext == "tif" else iio.imwrite(p, img)
    if rng.random() < 0.5:  # small parameters, so that peaks can exist at all
        flags = ["--open", str(int(rng.integers(0, 2))), "--min-distance", str(int(rng.integers(1, 4)))]
        if rng.random() < 0.5:
            flags += ["--footprint", str(int(rng.integers(1, 6)))]
    else:
        flags = rand_params(rng)
    return p, ["--threshold", "100"] + flags, kind


def gen_rects(rng, d):
    """Axis-aligned touching rectangles and squares: flat distance ridges and 2-pixel plateaus."""
    h, w = rand_size(rng, 37, 160)
    f = np.zeros((h, w), bool)
    y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
    for _ in range(int(rng.integers(2, 10))):
        rh, rw = int(rng.integers(3, 25)), int(rng.integers(3, 25))
        if rng.random() < 0.5:
            y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
        else:  # adjoining the previous one
            y, x = y + int(rng.integers(-rh, rh + 1)), x + int(rng.integers(-rw, rw + 1))
        f[max(y, 0):max(y + rh, 0), max(x, 0):max(x + rw, 0)] = True
    img = np.where(f, 210, 40).astype(np.uint8)
    p = os.path.join(d, "in.png")
    iio.imwrite(p, img)
    return p, ["--threshold", "127.5"] + rand_params(rng), "rects frac-thr"


def gen_lines(rng, d):
    """1-2 px wide lines and small dots on a larger image (peak_local_max's all-equal case)."""
    h, w = rand_size(rng, 37, 120)
    f = np.zeros((h, w), bool)
    for _ in range(int(rng.integers(1, 7))):
        y0, x0 = rng.uniform(0, h), rng.uniform(0, w)
        ang, L = rng.uniform(0, 2 * np.pi), rng.uniform(5, 60)
        wid = int(rng.integers(1, 3))
        for t in np.linspace(0, L, int(4 * L)):
            yy, xx = int(y0 + t * np.sin(ang)), int(x0 + t * np.cos(ang))
            f[max(yy, 0):max(yy + wid, 0), max(xx, 0):max(xx + wid, 0)] = True
    img = np.where(f, 30, 220).astype(np.uint8)
    p = os.path.join(d, "in.tif")
    tifffile.imwrite(p, img)
    k = 0 if rng.random() < 0.8 else 1
    m = int(rng.integers(1, 6))
    flags = ["--threshold", "100", "--dark", "--open", str(k), "--min-distance", str(m)]
    if rng.random() < 0.5:
        flags += ["--footprint", str(int(rng.integers(1, 8)))]
    return p, flags, "thin lines"


def gen_other_types(rng, d):
    """Rods as float32 TIFF, 16-bit RGB TIFF, or RGBA PNG (less common input types)."""
    h, w = rand_size(rng, 37, 160)
    dark = capsule_field(rng, h, w, int(rng.integers(3, 10)))
    base = (1.0 - 0.45 * dark) * illumination(rng, h, w) + rng.normal(0, 0.03, (h, w))
    kind = rng.choice(["f32", "rgb16", "rgba"])
    if kind == "f32":
        img = base.astype(np.float32)
        t = float(rng.uniform(0.7, 0.85))
        # pass the float32 value nearest to t, printed exactly, so both compare the same number
        t32 = np.float32(t)
        p = os.path.join(d, "in.tif")
        tifffile.imwrite(p, img)
        return p, ["--threshold", repr(float(t32)), "--dark"] + rand_params(rng), "rods f32"
    top = 65535 if kind == "rgb16" else 255
    tint = rng.uniform(0.6, 1.0, 3)
    img = np.clip(np.rint(base[..., None] * tint * 0.6 * top), 0, top)
    img = img.astype(np.uint16 if kind == "rgb16" else np.uint8)
    scale = 65535.0 if kind == "rgb16" else 255.0
    g = np.dot(img.astype(np.float64) / scale, [0.2125, 0.7154, 0.0721]) * scale
    for _ in range(1000):
        t = round(float(np.percentile(g, rng.uniform(8, 25))), 1) + 0.05
        keys = 2125 * img[..., 0].astype(np.int64) + 7154 * img[..., 1].astype(np.int64) + 721 * img[..., 2].astype(np.int64)
        if not np.any(keys * 10 == round(t * 100000)):
            break
    if kind == "rgba":
        img = np.concatenate([img, rng.integers(0, 256, (h, w, 1)).astype(np.uint8)], axis=2)
        p = os.path.join(d, "in.png")
        iio.imwrite(p, img)
    else:
        p = os.path.join(d, "in.tif")
        tifffile.imwrite(p, img, photometric="rgb")
    return p, ["--threshold", f"{t:.2f}", "--dark"] + rand_params(rng), f"rods {kind}"


DEGENERATE = ["1x1 obj", "1x1 bg", "1xN", "Nx1", "all fg", "empty", "2xN strip", "Nx2-3"]


def generate(rng, i, d, n_total):
    """Case i of n_total: degenerate ones first (one of each), then a mix."""
    if i < len(DEGENERATE) and n_total >= 2 * len(DEGENERATE):
        return gen_degenerate(rng, d, DEGENERATE[i])
    r = rng.random()
    if r < 0.22:
        return gen_blobs(rng, d)
    if r < 0.38:
        return gen_rods(rng, d, 8)
    if r < 0.56:
        return gen_rods(rng, d, 16)
    if r < 0.72:
        return gen_rgb(rng, d)
    if r < 0.79:
        return gen_rects(rng, d)
    if r < 0.86:
        return gen_lines(rng, d)
    if r < 0.93:
        return gen_other_types(rng, d)
    return gen_degenerate(rng, d, DEGENERATE[int(rng.integers(len(DEGENERATE)))])


# ----------------------------------------------------------------------------- main

def find_binary(path):
    if path:
        return path
    b = os.path.join(ROOT, "target", "release", "floodseg")
    if not os.path.exists(b):
        subprocess.run(["cargo", "build", "--release", "-q"], cwd=ROOT, check=True)
    return b


def verdict(res):
    if res["err"]:
        return "ERROR"
    bad = [s for s in STAGES if res["stages"][s][1] != 0]
    return "ok" if not bad else "DIFF:" + ",".join(bad)


def random_mode(args, binary):
    seed = args.seed if args.seed is not None else int(time.time()) % 100000
    rng = np.random.default_rng([seed, 0xF100D])
    base = args.keep or tempfile.mkdtemp(prefix="floodseg-compare-")
    os.makedirs(base, exist_ok=True)
    print(f"seed {seed}; cases under {base}")
    hdr = f"{'case':<5} {'size':>9} {'dtype':<7} {'kind':<22} {'flags':<58} {'stages':<12} {'counts':>9} {'agree %':>8}  ties"
    print(hdr)
    print("-" * len(hdr))
    tot = dict(stage=0, count=0, low=0, same=0, fg=0, notie=0, notie2=0)
    bad_rows = []
    t0 = time.time()
    for i in range(args.random):
        d = os.path.join(base, f"case{i:03d}")
        os.makedirs(d, exist_ok=True)
        p, flags, kind = generate(rng, i, d, args.random)
        with open(os.path.join(d, "flags.txt"), "w") as f:
            f.write(shlex.join(flags) + "\n")
        img = tifffile.imread(p) if p.endswith(".tif") else iio.imread(p)
        res = compare(binary, p, flags, d, verbose=False)
        v = verdict(res)
        cnt = f"{res['ref_n']}/{res['our_n']}"
        ag = "-" if res.get("agree") is None else f"{100 * res['agree']:.2f}"
        ties = ""
        if res.get("ties") is not None:
            h, l, nh, nl, hp, nhp = res["ties"]
            ties = ("eq-height" if h else "eq-pixel-height" if hp else
                    f"NOT eq-height({nhp}px)") + (",level-tie" if l else f",NOT-level-tie({nl}px)")
        size = "x".join(map(str, img.shape[:2]))
        dt = str(img.dtype) + (f"x{img.shape[2]}" if img.ndim == 3 else "")
        row = (f"{i:<5} {size:>9} {dt:<7} {kind:<22} {' '.join(flags):<58} {v:<12} "
               f"{cnt:>9} {ag:>8}  {ties}")
        print(row, flush=True)
        if res["err"]:
            print("      " + res["err"])
        tot["stage"] += not res["stage_ok"]
        tot["count"] += not res["count_ok"]
        if res.get("agree") is not None:
            tot["same"] += res["same"]
            tot["fg"] += res["fg"]
            if res["agree"] < 0.99:
                tot["low"] += 1
                if res["ties"] is not None and not res["ties"][0]:
                    tot["notie"] += 1
                if res["ties"] is not None and not (res["ties"][4] and res["ties"][1]):
                    tot["notie2"] += 1
        if v != "ok" or not res["count_ok"] or (res.get("agree") or 0) < 1.0:
            bad_rows.append(row)
    print("-" * len(hdr))
    pooled = 100 * tot["same"] / tot["fg"] if tot["fg"] else 100.0
    print(f"{args.random} cases in {time.time() - t0:.1f} s (seed {seed})")
    print(f"cases with any stage mismatch (mask/opened/distance2/peaks/markers): {tot['stage']}")
    print(f"cases with an object-count mismatch:                                 {tot['count']}")
    print(f"cases with label agreement < 99 %:                                   {tot['low']}"
          f"\n  of these, with a differing pixel not between markers of equal max height: {tot['notie']}"
          f"\n  ... not between markers sharing a pixel height, or not at an equal flood level: {tot['notie2']}")
    print(f"pooled label agreement: {pooled:.3f} % ({tot['same']}/{tot['fg']} foreground pixels)")
    if bad_rows:
        print("\nimperfect rows:")
        for r in bad_rows:
            print(r)
    return 1 if tot["stage"] or tot["count"] else 0


def main():
    argv = sys.argv[1:]
    flags = []
    if "--" in argv:
        k = argv.index("--")
        argv, flags = argv[:k], argv[k + 1:]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("image", nargs="?")
    ap.add_argument("--random", type=int)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--keep", help="keep generated inputs and both tools' stages under this folder")
    ap.add_argument("--bin", help="floodseg binary (default target/release/floodseg)")
    args = ap.parse_args(argv)
    binary = find_binary(args.bin)
    if args.random:
        sys.exit(random_mode(args, binary))
    if not args.image:
        ap.error("give IMAGE -- FLAGS... or --random N")
    work = args.keep or tempfile.mkdtemp(prefix="floodseg-compare-")
    print(f"{args.image}  {' '.join(flags)}  (stages under {work})")
    res = compare(binary, args.image, flags, work)
    ok = res["stage_ok"] and res["count_ok"]
    print("AGREE" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
