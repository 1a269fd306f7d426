#!/usr/bin/env python3
"""One Python tool on one input, in its own process; prints one JSON object.

    python3 tools.py skimage|opencv INPUT --threshold 128 --dark --open 1 --min-distance 5 \
        [--footprint S] [--repeat R] [--workers W] [--verify]

INPUT is a single 8-bit frame (run R times; the median and minimum are reported) or a
multi-page TIFF stack (every page once, read page by page). Loading is timed apart from the
pipeline; `compute_ms` is the pipeline alone, from the loaded array to the label image.
`--workers W` (stacks only) segments W frames at once in W worker processes
(multiprocessing), to use every core as floodseg's frame-parallel workers do.

- `skimage`: the lecture pipeline of scripts/reference/lecture_pipeline.py. Its `run()` also
  writes six stage TIFFs, so the timed function below repeats its compute statements without
  the writes (and `load()` is imported from it); `--verify` runs the reference `run()` once and
  checks that the labels are identical.
- `opencv`: the closest OpenCV pipeline: cv2.threshold, cv2.morphologyEx(MORPH_OPEN, 3×3 cross,
  iterations=k, border = background as SciPy's), cv2.distanceTransform(DIST_L2,
  DIST_MASK_PRECISE), skimage.feature.peak_local_max (OpenCV has no peak finder),
  cv2.connectedComponents (4-connected, as ndi.label), cv2.watershed. cv2.watershed takes an
  8-bit colour image and floods by colour differences between neighbours; it is given the
  inverted distance scaled to 0–255, and the opened background as one extra marker (the usual
  OpenCV idiom for a mask), so its borders differ from scikit-image's while the objects are the
  same markers. `opencv_only_ms` is the pipeline without the peak_local_max stage.
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import tempfile
import time

import numpy as np
import tifffile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "reference"))
import lecture_pipeline as lp  # noqa: E402  (scripts/reference/lecture_pipeline.py)

from scipy import ndimage as ndi  # noqa: E402
from skimage.feature import peak_local_max  # noqa: E402
from skimage.segmentation import watershed  # noqa: E402

STAGES = ("threshold", "opening", "distance", "peaks", "components", "watershed")


class Clock:
    def __init__(self):
        self.t = time.perf_counter()
        self.laps = {}

    def lap(self, name):
        now = time.perf_counter()
        self.laps[name] = (now - self.t) * 1e3
        self.t = now


def skimage_pipeline(img, a):
    """lecture_pipeline.run()'s statements on a loaded image, without its stage writes."""
    c = Clock()
    mask = img < a.threshold if a.dark else img > a.threshold
    c.lap("threshold")
    if a.open > 0:
        mask = ndi.binary_dilation(ndi.binary_erosion(mask, iterations=a.open), iterations=a.open)
    c.lap("opening")
    dist = ndi.distance_transform_edt(mask)
    c.lap("distance")
    fp = np.ones((a.footprint, a.footprint)) if a.footprint else None
    coords = peak_local_max(dist, labels=mask.astype(np.int32), min_distance=a.min_distance, footprint=fp)
    peaks = np.zeros(mask.shape, np.uint8)
    if len(coords):
        peaks[tuple(coords.T)] = 1
    c.lap("peaks")
    markers, n = ndi.label(peaks)
    c.lap("components")
    labels = watershed(-dist, markers, mask=mask)
    c.lap("watershed")
    return labels, c.laps


def opencv_pipeline(img, a):
    import cv2

    c = Clock()
    if a.dark:  # value < T  <=>  value <= ceil(T) - 1 for integer samples
        _, mask = cv2.threshold(img, math.ceil(a.threshold) - 1, 1, cv2.THRESH_BINARY_INV)
    else:  # value > T  <=>  value > floor(T)
        _, mask = cv2.threshold(img, math.floor(a.threshold), 1, cv2.THRESH_BINARY)
    c.lap("threshold")
    if a.open > 0:
        cross = cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cross, iterations=a.open,
                                borderType=cv2.BORDER_CONSTANT, borderValue=0)
    c.lap("opening")
    dist = cv2.distanceTransform(mask, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    c.lap("distance")
    fp = np.ones((a.footprint, a.footprint)) if a.footprint else None
    coords = peak_local_max(dist, labels=mask, min_distance=a.min_distance, footprint=fp)
    peaks = np.zeros(mask.shape, np.uint8)
    if len(coords):
        peaks[tuple(coords.T)] = 1
    c.lap("peaks")
    n, markers = cv2.connectedComponents(peaks, connectivity=4, ltype=cv2.CV_32S)
    c.lap("components")
    top = float(dist.max()) or 1.0
    relief = cv2.convertScaleAbs(dist, alpha=-255.0 / top, beta=255.0)  # 255 - dist scaled
    markers[mask == 0] = n  # the background floods from its own marker
    cv2.watershed(cv2.cvtColor(relief, cv2.COLOR_GRAY2BGR), markers)
    markers[(markers == n) | (markers == -1)] = 0
    c.lap("watershed")
    return markers, c.laps


def load_opencv(img):
    return np.ascontiguousarray(img, dtype=np.uint8)


def prepare(tool, img):
    """The array each pipeline starts from (the reference's load() widens to float64)."""
    if tool == "skimage":
        return img.astype(np.float64)
    return load_opencv(img)


def objects(labels):
    return int(np.count_nonzero(np.bincount(labels[labels > 0].ravel())))


def one_frame(tool, img, a):
    """Labels, stage laps, prepare ms, compute ms (wall) and compute CPU ms (all threads)."""
    t0 = time.perf_counter()
    x = prepare(tool, img)
    t1 = time.perf_counter()
    c1 = time.process_time()
    labels, laps = (skimage_pipeline if tool == "skimage" else opencv_pipeline)(x, a)
    t2 = time.perf_counter()
    laps["cpu_ms"] = (time.process_time() - c1) * 1e3
    return labels, laps, (t1 - t0) * 1e3, (t2 - t1) * 1e3


def _worker(job):
    tool, path, index, a = job
    with tifffile.TiffFile(path) as tf:
        img = tf.pages[index].asarray()
    labels, laps, prep, comp = one_frame(tool, img, a)
    return objects(labels), laps, prep, comp


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tool", choices=("skimage", "opencv"))
    ap.add_argument("input")
    ap.add_argument("--threshold", type=float, required=True)
    ap.add_argument("--dark", action="store_true")
    ap.add_argument("--open", type=int, default=0)
    ap.add_argument("--min-distance", type=int, default=10)
    ap.add_argument("--footprint", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--verify", action="store_true")
    ap.add_argument("--max-frames", type=int, default=None, help="stacks: only the first N pages")
    a = ap.parse_args()

    t_start = time.perf_counter()
    info = {"tool": a.tool, "input": os.path.basename(a.input), "workers": a.workers}
    if a.tool == "opencv":
        import cv2

        info["opencv_threads"] = cv2.getNumThreads()
    with tifffile.TiffFile(a.input) as tf:
        n_pages = len(tf.pages)
        if a.max_frames and n_pages > 1:
            n_pages = min(n_pages, a.max_frames)
        shape = tf.pages[0].shape
    info.update(width=int(shape[1]), height=int(shape[0]), pages=n_pages)

    compute, prep_ms, load_ms, counts, cpu_ms = [], [], [], [], []
    stage_sum = {k: 0.0 for k in STAGES}
    if n_pages == 1:
        t0 = time.perf_counter()
        img = tifffile.imread(a.input)
        load_ms.append((time.perf_counter() - t0) * 1e3)
        for _ in range(a.repeat):
            labels, laps, prep, comp = one_frame(a.tool, img, a)
            compute.append(comp)
            cpu_ms.append(laps["cpu_ms"])
            prep_ms.append(prep)
            for k in STAGES:
                stage_sum[k] += laps[k]
        counts.append(objects(labels))
        if a.verify and a.tool == "skimage":
            with tempfile.TemporaryDirectory() as d:
                lp.run(a.input, d, a.threshold, a.dark, a.open, a.min_distance, a.footprint)
                ref = tifffile.imread(os.path.join(d, "labels.tif"))
            info["verified_against_reference_run"] = bool(np.array_equal(ref, labels))
        frames = a.repeat
    elif a.workers > 1:
        from multiprocessing import Pool

        t0 = time.perf_counter()
        with Pool(a.workers) as pool:
            for n_obj, laps, prep, comp in pool.imap(_worker, [(a.tool, a.input, i, a) for i in range(n_pages)]):
                counts.append(n_obj)
                compute.append(comp)
                prep_ms.append(prep)
                for k in STAGES:
                    stage_sum[k] += laps[k]
        info["stack_wall_s"] = time.perf_counter() - t0
        frames = n_pages
    else:
        t0 = time.perf_counter()
        with tifffile.TiffFile(a.input) as tf:
            for page in tf.pages[:n_pages]:
                tl = time.perf_counter()
                img = page.asarray()
                load_ms.append((time.perf_counter() - tl) * 1e3)
                labels, laps, prep, comp = one_frame(a.tool, img, a)
                compute.append(comp)
                prep_ms.append(prep)
                counts.append(objects(labels))
                for k in STAGES:
                    stage_sum[k] += laps[k]
        info["stack_wall_s"] = time.perf_counter() - t0
        frames = n_pages

    ru_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    ru_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    stages_ms = {k: v / frames for k, v in stage_sum.items()}
    info.update(
        frames=frames,
        compute_ms_median=statistics.median(compute),
        compute_ms_min=min(compute),
        compute_ms_mean=statistics.fmean(compute),
        compute_cpu_ms_median=statistics.median(cpu_ms) if cpu_ms else None,
        prepare_ms_mean=statistics.fmean(prep_ms),
        load_ms_mean=statistics.fmean(load_ms) if load_ms else None,
        stages_ms=stages_ms,
        opencv_only_ms=(sum(v for k, v in stages_ms.items() if k != "peaks") if a.tool == "opencv" else None),
        objects_per_frame=counts if n_pages > 1 else counts[0],
        objects_total=sum(counts) if n_pages > 1 else counts[0],
        peak_rss_self_mib=ru_self,
        peak_rss_children_mib=ru_children if a.workers > 1 else None,
        process_s=time.perf_counter() - t_start,
    )
    print(json.dumps(info))


if __name__ == "__main__":
    main()
