#!/usr/bin/env python3
"""Cell Tracking Challenge fixtures for `floodseg::ctc::metrics`, scored by py-ctcmetrics.

Regenerate (from the repository root; the venv holds py-ctcmetrics 1.3.3, numpy, tifffile):

    /work/venv-ref/bin/python scripts/reference/ctc_metrics.py [--seed 2024] [--out tests/data/ctc]
    cargo test --test library ctc        # the Rust side must then still agree

and, to hold floodseg to py-ctcmetrics on many more random cases than are committed (random
mixes of all the perturbations below, in a temporary folder; nothing is written to the repo):

    cargo build --release
    /work/venv-ref/bin/python scripts/reference/ctc_metrics.py --check 300 \
        --floodseg target/release/floodseg

It writes, under OUT (default tests/data/ctc, replaced wholesale):

  case_NN/gt/TRA/man_track.txt, man_trackTTT.tif   ground truth: a random lineage
  case_NN/gt/SEG/man_segTTT.tif                    full segmentations of a few frames
  case_NN/res/res_track.txt, maskTTT.tif           a result derived from it (perturbed)
  invalid_NN/{gt,res}                              result folders that break a CTC rule
  expected.json                                    py-ctcmetrics' numbers for each folder

Ground truth: 2-4 rods/blobs (ellipses) on a 48x48 frame, 5-10 frames, that move, grow,
divide (mother ends in frame t, two daughters begin in t+1), enter, leave, and now and then
vanish for a frame and come back under a new label whose parent is the old one (the CTC gap
convention). TRA markers are the whole objects or shrunken ellipses inside them; SEG holds
whole objects in 2-4 frames, sometimes with one object left out.

Results: the ground truth's objects with perturbations, each case a different mix: jittered
shapes (grown, shrunk, shifted by a pixel), missed objects, false positives, merged and split
objects, swapped identities (wrong links), missed divisions (links dropped, or a daughter that
continues the mother's label), false divisions, divisions one frame late or early, a gap
(object missing for a frame; continued with or without a parent link), an empty frame, and
labels permuted into 1..30000. A result is then made valid CTC: a label present in frames
with holes is cut into runs, each later run a new label whose parent is the run before; a
parent link that no longer ends before its child begins is dropped. py-ctcmetrics' `valid`
must accept each result.

expected.json maps each case to the dictionary `evaluate_sequence(res, gt, threads=1)`
returns for all metrics (floats; None -> null), and each invalid folder to
`{"valid": 0, "warnings": [...what ctc_validate warns...], "problem": "..."}`, where
`problem` is a fragment of the message floodseg's `ctc::validate` gives for that rule.

The masks are u16 TIFFs, deflate-compressed (tifffile `compression="zlib"`), which floodseg's
`io::read_labels_tiff` reads.
"""
import argparse
import json
import os
import shutil
import sys
import warnings

# This file is named like the package it calls: keep its own folder off the import path.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _here]

import numpy as np  # noqa: E402
import tifffile  # noqa: E402
from ctc_metrics.scripts.evaluate import evaluate_sequence  # noqa: E402
from ctc_metrics.scripts.validate import validate_sequence  # noqa: E402

H = W = 48
YY, XX = np.mgrid[0:H, 0:W]


# ---------------------------------------------------------------------------------------------
# ground truth


def ellipse(cy, cx, a, b, ang):
    """Boolean mask of an ellipse: semi-axes a (along angle ang) and b."""
    dy, dx = YY - cy, XX - cx
    u = dy * np.cos(ang) + dx * np.sin(ang)
    v = -dy * np.sin(ang) + dx * np.cos(ang)
    return (u / a) ** 2 + (v / b) ** 2 <= 1.0


class Cell:
    def __init__(self, label, cy, cx, a, b, ang):
        self.label, self.cy, self.cx, self.a, self.b, self.ang = label, cy, cx, a, b, ang

    def mask(self, scale=1.0):
        m = ellipse(self.cy, self.cx, self.a * scale, self.b * scale, self.ang)
        if not m.any():
            m[int(round(self.cy)), int(round(self.cx))] = True
        return m


def free(cells, cy, cx, a, skip=()):
    """Whether a cell of major semi-axis `a` at (cy, cx) keeps clear of the others."""
    if not (a + 1 <= cy <= H - 2 - a and a + 1 <= cx <= W - 2 - a):
        return False
    for c in cells:
        if c in skip:
            continue
        if np.hypot(c.cy - cy, c.cx - cx) < c.a + a + 2:
            return False
    return True


def simulate(rng, div_p=0.30, div_age=2, div_size=3.4):
    """A random lineage: per frame the list of cells, and the tracks {label: [B, E, P]}. A
    cell at least `div_age` frames old whose major semi-axis exceeds `div_size` divides with
    probability `div_p` per frame (when its daughters fit)."""
    while True:
        n_frames = int(rng.integers(5, 11))
        tracks = {}
        next_label = [1]

        def new_label(t, parent):
            lab = next_label[0]
            next_label[0] += 1
            tracks[lab] = [t, t, parent]
            return lab

        def spawn(cells, t, parent=0):
            for _ in range(30):
                a = float(rng.uniform(3.0, 5.5))
                b = float(rng.uniform(2.0, min(a, 3.2)))
                cy, cx = rng.uniform(a + 1, H - 2 - a, size=2)
                if free(cells, cy, cx, a):
                    return Cell(new_label(t, parent), cy, cx, a, b, float(rng.uniform(0, np.pi)))
            return None

        frames = []
        cells = []
        for _ in range(int(rng.integers(2, 5))):
            c = spawn(cells, 0)
            if c:
                cells.append(c)
        hidden = []  # (cell, frame it reappears in)
        divisions = 0
        for t in range(n_frames):
            if t > 0:
                nxt = []
                for c in cells:
                    r = rng.random()
                    age = t - tracks[c.label][0]
                    if r < 0.06:
                        continue  # leaves
                    if r < 0.10 and t < n_frames - 1:
                        hidden.append((c, t + 1))  # invisible in frame t, back in t+1
                        continue
                    if r < 0.10 + div_p and age >= div_age and c.a > div_size:
                        # divide along the major axis
                        ka = max(c.a / 2.0 + 0.5, 2.2)
                        da, ok = ka + 1.1, True
                        kids = []
                        for s in (1, -1):
                            cy = c.cy + s * da * np.cos(c.ang)
                            cx = c.cx + s * da * np.sin(c.ang)
                            kid = Cell(0, cy, cx, ka, min(c.b, ka), c.ang)
                            if not free(nxt + kids + cells, cy, cx, kid.a, skip=(c,)):
                                ok = False
                            kids.append(kid)
                        if ok:
                            for kid in kids:
                                kid.label = new_label(t, c.label)
                            nxt.extend(kids)
                            divisions += 1
                            continue
                    # move and grow
                    for _ in range(5):
                        cy = c.cy + rng.normal(0, 1.0)
                        cx = c.cx + rng.normal(0, 1.0)
                        a = min(c.a + rng.uniform(0, 0.5), 6.0)
                        if free(nxt + cells, cy, cx, a, skip=(c,)):
                            c.cy, c.cx, c.a = cy, cx, a
                            break
                    c.ang += rng.normal(0, 0.1)
                    nxt.append(c)
                for c, back in list(hidden):
                    if back == t:
                        hidden.remove((c, back))
                        if free(nxt, c.cy, c.cx, c.a):
                            old = c.label
                            c.label = new_label(t, old)
                            nxt.append(c)
                if rng.random() < 0.25:
                    c = spawn(nxt, t)
                    if c:
                        nxt.append(c)
                cells = nxt
            for c in cells:
                tracks[c.label][1] = t
            frames.append([Cell(c.label, c.cy, c.cx, c.a, c.b, c.ang) for c in cells])
        if divisions >= 1 and all(frames) and len(tracks) >= 3:
            return frames, tracks


def paint(objs):
    """A u16 label image from [(label, mask)] (later ones on top)."""
    img = np.zeros((H, W), np.uint16)
    for lab, m in objs:
        img[m] = lab
    return img


# ---------------------------------------------------------------------------------------------
# results


def grow(m):
    g = m.copy()
    g[1:] |= m[:-1]
    g[:-1] |= m[1:]
    g[:, 1:] |= m[:, :-1]
    g[:, :-1] |= m[:, 1:]
    return g


def shrink(m):
    return ~grow(~m)


def shift(m, dy, dx):
    out = np.zeros_like(m)
    ys, xs = np.nonzero(m)
    ys, xs = np.clip(ys + dy, 0, H - 1), np.clip(xs + dx, 0, W - 1)
    out[ys, xs] = True
    return out


class Result:
    """A result being built: per frame {label: mask}, and {label: parent}."""

    def __init__(self, frames, tracks):
        self.frames = [{c.label: c.mask() for c in cells} for cells in frames]
        self.parent = {lab: p for lab, (_, _, p) in tracks.items()}
        self.next = max(tracks) + 1
        self.gap_links = True

    def new(self, parent=0):
        lab = self.next
        self.next += 1
        self.parent[lab] = parent
        return lab

    def objects(self):
        return [(t, lab) for t, f in enumerate(self.frames) for lab in f]

    def span(self, lab):
        ts = [t for t, f in enumerate(self.frames) if lab in f]
        return (ts[0], ts[-1]) if ts else None

    def divisions(self, tracks):
        kids = {}
        for lab, (_, _, p) in tracks.items():
            if p:
                kids.setdefault(p, []).append(lab)
        return [(p, k) for p, k in kids.items() if len(k) == 2]


def jitter(rng, res, p):
    for f in res.frames:
        for lab in list(f):
            if rng.random() < p:
                m = f[lab]
                op = rng.integers(4)
                if op == 0:
                    m = grow(m)
                elif op == 1 and shrink(m).sum() >= 3:
                    m = shrink(m)
                else:
                    m = shift(m, int(rng.integers(-1, 2)), int(rng.integers(-1, 2)))
                f[lab] = m


def miss(rng, res, k):
    objs = res.objects()
    for i in rng.permutation(len(objs))[:k]:
        t, lab = objs[i]
        res.frames[t].pop(lab, None)


def false_positives(rng, res, k):
    for _ in range(k):
        t0 = int(rng.integers(len(res.frames)))
        dur = int(rng.integers(1, 4))
        for _ in range(20):
            cy, cx = rng.uniform(4, H - 5, size=2)
            m = ellipse(cy, cx, 2.2, 2.0, 0.0)
            occupied = paint(list(res.frames[t0].items())) > 0
            if not (m & occupied).any():
                lab = res.new()
                for t in range(t0, min(t0 + dur, len(res.frames))):
                    res.frames[t][lab] = m
                break


def centroid(m):
    ys, xs = np.nonzero(m)
    return ys.mean(), xs.mean()


def merge(rng, res, k):
    """In k frames, two neighbouring objects become one (the pair's first label)."""
    for _ in range(k):
        t = int(rng.integers(len(res.frames)))
        f = res.frames[t]
        labs = sorted(f)
        if len(labs) < 2:
            continue
        best = None
        for i, a in enumerate(labs):
            for b in labs[i + 1:]:
                d = np.hypot(*np.subtract(centroid(f[a]), centroid(f[b])))
                if best is None or d < best[0]:
                    best = (d, a, b)
        _, a, b = best
        if rng.random() < 0.5:
            a, b = b, a
        # the union and a bridge between the two, under a's label
        (ya, xa), (yb, xb) = centroid(f[a]), centroid(f[b])
        bridge = np.zeros((H, W), bool)
        for s in np.linspace(0, 1, 40):
            bridge[int(round(ya + s * (yb - ya))), int(round(xa + s * (xb - xa)))] = True
        f[a] = f[a] | f[b] | grow(bridge)
        del f[b]


def split(rng, res, k):
    """k objects cut in two by a line through their centroid (the part shares random)."""
    objs = [(t, lab) for t, lab in res.objects() if res.frames[t][lab].sum() >= 8]
    for i in rng.permutation(len(objs))[:k]:
        t, lab = objs[i]
        m = res.frames[t][lab]
        cy, cx = centroid(m)
        ang = rng.uniform(0, np.pi)
        off = rng.uniform(-1.5, 1.5)
        side = ((YY - cy) * np.cos(ang) + (XX - cx) * np.sin(ang)) > off
        a, b = m & side, m & ~side
        if a.any() and b.any():
            res.frames[t][lab] = a
            res.frames[t][res.new()] = b


def swap_ids(rng, res, k):
    """k identity switches: two labels trade their objects from frame t on."""
    for _ in range(k):
        t = int(rng.integers(1, len(res.frames)))
        f = res.frames[t]
        labs = sorted(f)
        if len(labs) < 2:
            continue
        a, b = rng.choice(labs, 2, replace=False)
        for g in res.frames[t:]:
            ma, mb = g.pop(a, None), g.pop(b, None)
            if ma is not None:
                g[b] = ma
            if mb is not None:
                g[a] = mb


def miss_divisions(rng, res, tracks, k):
    """k divisions missed: both links dropped, or a daughter continues the mother's label."""
    divs = res.divisions(tracks)
    for i in rng.permutation(len(divs))[:k]:
        mother, kids = divs[i]
        if rng.random() < 0.5:
            for kid in kids:
                res.parent[kid] = 0
        else:
            kid = kids[int(rng.integers(2))]
            for f in res.frames:
                if kid in f:
                    f[mother] = f.pop(kid)
            for lab, p in res.parent.items():
                if p == kid:
                    res.parent[lab] = mother


def false_divisions(rng, res, k):
    """k tracks that 'divide' mid-way: the object continues as a child, a blob is the other."""
    for _ in range(k):
        objs = [(t, lab) for t, lab in res.objects() if t > 0 and lab in res.frames[t - 1]]
        if not objs:
            return
        t, lab = objs[int(rng.integers(len(objs)))]
        c1 = res.new(parent=lab)
        c2 = res.new(parent=lab)
        for g in res.frames[t:]:
            if lab in g:
                g[c1] = g.pop(lab)
        cy, cx = centroid(res.frames[t][c1])
        occupied = paint(list(res.frames[t].items())) > 0
        for dy, dx in ((6, 0), (-6, 0), (0, 6), (0, -6), (5, 5), (-5, -5)):
            m = ellipse(cy + dy, cx + dx, 2.0, 2.0, 0.0)
            if m.any() and not (m & occupied).any():
                res.frames[t][c2] = m
                break


def shift_divisions(rng, res, tracks, k):
    """k divisions one frame late (the mother holds both daughters' pixels one more frame)
    or early (the mother's last object is cut in two as the daughters)."""
    divs = res.divisions(tracks)
    for i in rng.permutation(len(divs))[:k]:
        mother, kids = divs[i]
        b = tracks[kids[0]][0]
        if any(tracks[kid][0] != b for kid in kids):
            continue
        fb = res.frames[b]
        if rng.random() < 0.5:
            # late: frame b shows the mother (both daughters' pixels)
            if not all(kid in fb for kid in kids) or mother in fb:
                continue
            if any(tracks[kid][1] <= b for kid in kids):
                continue
            fb[mother] = fb.pop(kids[0]) | fb.pop(kids[1])
        else:
            # early: the mother's last frame shows the daughters
            fe = res.frames[b - 1]
            if mother not in fe or tracks[mother][1] - tracks[mother][0] < 1:
                continue
            m = fe.pop(mother)
            cy, cx = centroid(m)
            ang = rng.uniform(0, np.pi)
            side = ((YY - cy) * np.cos(ang) + (XX - cx) * np.sin(ang)) > 0
            if (m & side).any() and (m & ~side).any():
                fe[kids[0]], fe[kids[1]] = m & side, m & ~side
            else:
                fe[mother] = m


def gap(rng, res, k, linked):
    """k objects missing for one frame mid-track (continued with a parent link or not)."""
    res.gap_links = linked
    for _ in range(k):
        objs = [(t, lab) for t, lab in res.objects()
                if 0 < t < len(res.frames) - 1
                and lab in res.frames[t - 1] and lab in res.frames[t + 1]]
        if not objs:
            return
        t, lab = objs[int(rng.integers(len(objs)))]
        del res.frames[t][lab]


def empty_frame(rng, res):
    t = int(rng.integers(1, len(res.frames) - 1))
    res.frames[t] = {}


def finish(rng, res, relabel):
    """Paint, make valid CTC (runs become tracks; parent links that break the rules dropped),
    optionally permute the labels. Returns (masks, tracks {L: [B, E, P]})."""
    imgs = [paint(sorted(f.items())) for f in res.frames]
    present = [set(np.unique(img).tolist()) - {0} for img in imgs]
    labels = sorted(set().union(*present))
    runs = {}  # label -> [(new label, begin, end)]
    nxt = max([res.next] + labels) + 1
    out_tracks = {}
    out_imgs = [np.zeros_like(img) for img in imgs]
    for lab in labels:
        ts = [t for t in range(len(imgs)) if lab in present[t]]
        pieces, start = [], ts[0]
        for a, b in zip(ts, ts[1:] + [None]):
            if b is None or b != a + 1:
                pieces.append((start, a))
                start = b
        runs[lab] = []
        for i, (b0, e0) in enumerate(pieces):
            if i == 0:
                new = lab
            else:
                new = nxt
                nxt += 1
            runs[lab].append((new, b0, e0))
            for t in range(b0, e0 + 1):
                out_imgs[t][imgs[t] == lab] = new
    for lab in labels:
        for i, (new, b0, e0) in enumerate(runs[lab]):
            if i > 0:
                parent = runs[lab][i - 1][0] if res.gap_links else 0
            else:
                p = res.parent.get(lab, 0)
                parent = 0
                for pn, pb, pe in runs.get(p, []):
                    if pe < b0:
                        parent = pn
            out_tracks[new] = [b0, e0, parent]
    if relabel:
        old = sorted(out_tracks)
        new = rng.choice(np.arange(1, 30000), len(old), replace=False)
        lut = dict(zip(old, new.tolist()))
        lut[0] = 0
        out_tracks = {lut[k]: [b, e, lut[p]] for k, (b, e, p) in out_tracks.items()}
        table = np.zeros(max(old) + 1, np.uint16)
        for k, v in lut.items():
            table[k] = v
        out_imgs = [table[img] for img in out_imgs]
    return out_imgs, out_tracks


# ---------------------------------------------------------------------------------------------
# writing


def write_tracks(path, tracks):
    with open(path, "w") as f:
        for lab in sorted(tracks):
            b, e, p = tracks[lab]
            f.write(f"{lab} {b} {e} {p}\n")


def write_tif(path, img):
    tifffile.imwrite(path, img.astype(np.uint16), compression="zlib")


def write_gt(dir_, rng, frames, tracks, marker_scale, seg_frames, seg_drop):
    tra, seg = os.path.join(dir_, "TRA"), os.path.join(dir_, "SEG")
    os.makedirs(tra)
    os.makedirs(seg)
    write_tracks(os.path.join(tra, "man_track.txt"), tracks)
    for t, cells in enumerate(frames):
        write_tif(os.path.join(tra, f"man_track{t:03d}.tif"),
                  paint([(c.label, c.mask(marker_scale)) for c in cells]))
    for t in seg_frames:
        cells = list(frames[t])
        if seg_drop and len(cells) > 1:
            cells.pop(int(rng.integers(len(cells))))
        write_tif(os.path.join(seg, f"man_seg{t:03d}.tif"),
                  paint([(c.label, c.mask()) for c in cells]))


def write_res(dir_, imgs, tracks):
    os.makedirs(dir_)
    write_tracks(os.path.join(dir_, "res_track.txt"), tracks)
    for t, img in enumerate(imgs):
        write_tif(os.path.join(dir_, f"mask{t:03d}.tif"), img)


def plain(v):
    if v is None:
        return None
    v = float(v)
    return None if np.isnan(v) else v


# The perturbation mix of each case: (name, function(rng, res, tracks)).
def mix(*steps):
    return lambda rng, res, tracks: [s(rng, res, tracks) for s in steps]


CASES = [
    ("perfect", mix(), False),
    ("relabelled_jitter", mix(lambda r, s, t: jitter(r, s, 0.6)), True),
    ("missed", mix(lambda r, s, t: miss(r, s, 4)), False),
    ("false_positives", mix(lambda r, s, t: false_positives(r, s, 4)), False),
    ("merged", mix(lambda r, s, t: merge(r, s, 3)), False),
    ("split", mix(lambda r, s, t: split(r, s, 4)), False),
    ("wrong_links", mix(lambda r, s, t: swap_ids(r, s, 2)), True),
    ("missed_divisions", mix(lambda r, s, t: miss_divisions(r, s, t, 2)), False),
    ("false_divisions", mix(lambda r, s, t: false_divisions(r, s, 2)), False),
    ("late_early_divisions", mix(lambda r, s, t: shift_divisions(r, s, t, 3)), False),
    ("gap_linked", mix(lambda r, s, t: gap(r, s, 2, True)), False),
    ("gap_unlinked", mix(lambda r, s, t: gap(r, s, 2, False)), True),
    ("empty_frame", mix(lambda r, s, t: empty_frame(r, s)), False),
    ("everything_1", mix(
        lambda r, s, t: jitter(r, s, 0.3), lambda r, s, t: miss(r, s, 2),
        lambda r, s, t: false_positives(r, s, 2), lambda r, s, t: merge(r, s, 1),
        lambda r, s, t: split(r, s, 1), lambda r, s, t: swap_ids(r, s, 1),
        lambda r, s, t: shift_divisions(r, s, t, 1), lambda r, s, t: gap(r, s, 1, True)), True),
    ("everything_2", mix(
        lambda r, s, t: miss_divisions(r, s, t, 1), lambda r, s, t: false_divisions(r, s, 1),
        lambda r, s, t: jitter(r, s, 0.5), lambda r, s, t: split(r, s, 2),
        lambda r, s, t: merge(r, s, 2), lambda r, s, t: miss(r, s, 3)), True),
    ("everything_3", mix(
        lambda r, s, t: swap_ids(r, s, 2), lambda r, s, t: gap(r, s, 2, False),
        lambda r, s, t: false_positives(r, s, 3), lambda r, s, t: shift_divisions(r, s, t, 2),
        lambda r, s, t: jitter(r, s, 0.8)), True),
]


def run_quiet(fn, *args, **kw):
    """Call fn with py-ctcmetrics' prints and warnings kept; returns (value, warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        devnull = open(os.devnull, "w")
        old, sys.stdout = sys.stdout, devnull
        try:
            value = fn(*args, **kw)
        finally:
            sys.stdout = old
            devnull.close()
    return value, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def make_invalid(out, rng, expected):
    """Result folders that break one CTC rule each, with what ctc_validate says."""
    frames, tracks = simulate(rng)
    base = Result(frames, tracks)
    imgs, good = finish(rng, base, relabel=False)
    n = len(imgs)
    lab = sorted(good)[0]
    b, e, _ = good[lab]
    cases = []
    # 0: a label in a mask that res_track.txt does not list
    t = {k: v[:] for k, v in good.items()}
    stray = max(t) + 1
    im = [i.copy() for i in imgs]
    im[n // 2][0, 0] = stray  # (no object reaches the frame's edge)
    cases.append((im, t, f"label {stray} has no track line"))
    # 1: a parent that ends in the frame its child begins
    t = {k: v[:] for k, v in good.items()}
    kid = next(k for k, v in t.items() if v[2] != 0 and t[v[2]][1] == v[0] - 1)
    t[t[kid][2]][1] = t[kid][0]
    im = [i.copy() for i in imgs]
    im[t[kid][0]][H - 1, W - 1] = t[kid][2]  # so that the masks agree with the spans
    cases.append((im, t, f"parent {t[kid][2]} ends in frame"))
    # 2: a track listed for a frame its mask does not hold
    t = {k: v[:] for k, v in good.items()}
    im = [i.copy() for i in imgs]
    im[b][im[b] == lab] = 0
    cases.append((im, t, f"track {lab} (frames {b}–{e}) is missing"))
    # 3: a label with two lines
    # (one nobody descends from: ctc_validate asserts a parent has one line)
    t = [[k] + v for k, v in sorted(good.items())]
    parents = {v[2] for v in good.values()}
    twice = next(row for row in t if row[0] not in parents)
    t.append(list(twice))
    cases.append((imgs, t, f"label {twice[0]} has two lines"))
    for i, (im, t, problem) in enumerate(cases):
        write_gt(os.path.join(out, f"invalid_{i:02d}", "gt"), rng, frames, tracks, 1.0, [0],
                 seg_drop=False)
        d = os.path.join(out, f"invalid_{i:02d}", "res")
        os.makedirs(d)
        for f, img in enumerate(im):
            write_tif(os.path.join(d, f"mask{f:03d}.tif"), img)
        with open(os.path.join(d, "res_track.txt"), "w") as fh:
            rows = t if isinstance(t, list) else [[k] + v for k, v in sorted(t.items())]
            for row in rows:
                fh.write(" ".join(str(x) for x in row) + "\n")
        value, said = run_quiet(validate_sequence, d, threads=1)
        assert value["Valid"] == 0, (d, value)
        expected[f"invalid_{i:02d}"] = {"valid": 0, "warnings": said, "problem": problem}


PERTURBATIONS = [
    lambda r, s, t: jitter(r, s, float(r.uniform(0.1, 0.9))),
    lambda r, s, t: miss(r, s, int(r.integers(1, 5))),
    lambda r, s, t: false_positives(r, s, int(r.integers(1, 4))),
    lambda r, s, t: merge(r, s, int(r.integers(1, 3))),
    lambda r, s, t: split(r, s, int(r.integers(1, 4))),
    lambda r, s, t: swap_ids(r, s, int(r.integers(1, 3))),
    lambda r, s, t: miss_divisions(r, s, t, int(r.integers(1, 3))),
    lambda r, s, t: false_divisions(r, s, int(r.integers(1, 3))),
    lambda r, s, t: shift_divisions(r, s, t, int(r.integers(1, 3))),
    lambda r, s, t: gap(r, s, int(r.integers(1, 3)), bool(r.random() < 0.5)),
    lambda r, s, t: empty_frame(r, s),
]


def check(args):
    """Score --check random cases with py-ctcmetrics and `floodseg eval --ctc-gt/--ctc-res
    --json`; print the largest difference; exit status 1 on a mismatch (> 1e-9, or a value
    defined on one side only)."""
    import subprocess
    import tempfile

    rng = np.random.default_rng(args.seed)
    worst, bad = 0.0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.check):
            case = os.path.join(tmp, f"case_{i:04d}")
            frames, tracks = simulate(rng, *((0.5, 1, 2.6) if i % 2 else (0.3, 2, 3.4)))
            n = len(frames)
            seg_frames = sorted(rng.choice(n, int(rng.integers(1, n + 1)), replace=False).tolist())
            write_gt(os.path.join(case, "gt"), rng, frames, tracks,
                     1.0 if rng.random() < 0.4 else float(rng.uniform(0.5, 0.8)), seg_frames,
                     seg_drop=bool(rng.random() < 0.3))
            res = Result(frames, tracks)
            for k in rng.permutation(len(PERTURBATIONS))[:int(rng.integers(0, 6))]:
                PERTURBATIONS[k](rng, res, tracks)
            imgs, res_tracks = finish(rng, res, relabel=bool(rng.random() < 0.5))
            if not res_tracks:
                continue
            write_res(os.path.join(case, "res"), imgs, res_tracks)
            py, _ = run_quiet(evaluate_sequence, os.path.join(case, "res"),
                              os.path.join(case, "gt"), threads=1)
            out = subprocess.run(
                [args.floodseg, "eval", "--ctc-gt", os.path.join(case, "gt"), "--ctc-res",
                 os.path.join(case, "res"), "--json"], capture_output=True, text=True)
            if py.get("Valid") != 1 or out.returncode != 0:
                print(f"{case}: py Valid={py.get('Valid')}, floodseg: {out.stderr.strip()}")
                bad += 1
                continue
            ours = json.loads(out.stdout)
            for k, v in ours.items():
                w = plain(py.get(k))
                if (v is None) != (w is None) or (v is not None and abs(v - w) > 1e-9):
                    print(f"case {i} ({case}): {k}: floodseg {v}, py-ctcmetrics {w}")
                    bad += 1
                elif v is not None:
                    worst = max(worst, abs(v - w))
            if bad > 20:
                break
        if bad:
            input_dir = os.path.join(os.getcwd(), "ctc-check-failed")
            shutil.copytree(tmp, input_dir, dirs_exist_ok=True)
            print(f"cases kept in {input_dir}")
    print(f"{args.check} cases, {bad} mismatches, max |floodseg - py-ctcmetrics| = {worst:g}")
    sys.exit(1 if bad else 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--out", default="tests/data/ctc")
    ap.add_argument("--check", type=int, default=0, metavar="N",
                    help="compare floodseg with py-ctcmetrics on N random cases instead")
    ap.add_argument("--floodseg", default="target/release/floodseg")
    args = ap.parse_args()
    if args.check:
        return check(args)
    rng = np.random.default_rng(args.seed)
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    os.makedirs(args.out)
    expected = {}
    for i, (name, perturb, relabel) in enumerate(CASES):
        case = os.path.join(args.out, f"case_{i:02d}")
        # every other case divides often (cells born of a division that divide again: CCA)
        frames, tracks = simulate(rng, *((0.5, 1, 2.6) if i % 2 else (0.3, 2, 3.4)))
        n = len(frames)
        marker_scale = 1.0 if i % 3 == 0 else float(rng.uniform(0.5, 0.8))
        seg_frames = sorted(rng.choice(n, int(rng.integers(2, 5)), replace=False).tolist())
        write_gt(os.path.join(case, "gt"), rng, frames, tracks, marker_scale, seg_frames,
                 seg_drop=(i % 4 == 1))
        res = Result(frames, tracks)
        perturb(rng, res, tracks)
        imgs, res_tracks = finish(rng, res, relabel)
        write_res(os.path.join(case, "res"), imgs, res_tracks)
        valid, said = run_quiet(validate_sequence, os.path.join(case, "res"), threads=1)
        assert valid["Valid"] == 1, (case, said)
        got, _ = run_quiet(evaluate_sequence, os.path.join(case, "res"),
                           os.path.join(case, "gt"), threads=1)
        entry = {"name": name, "frames": n}
        entry.update({k: plain(v) for k, v in got.items()})
        expected[f"case_{i:02d}"] = entry
        print(f"case_{i:02d} {name:22s} frames={n:2d} "
              + " ".join(f"{k}={entry[k]:.4f}" if entry[k] is not None else f"{k}=None"
                         for k in ("DET", "SEG", "TRA", "LNK", "CT", "TF", "BC(0)", "BC(1)",
                                   "CCA")))
    make_invalid(args.out, rng, expected)
    with open(os.path.join(args.out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
