"""floodseg on Dask: lazy labels of stacks that outgrow one machine.

floodseg does not schedule anything itself: :func:`segment` builds a Dask graph of one task per
chunk of frames (``map_blocks``) and Dask runs it — threads, a ``LocalCluster`` of processes,
or ``dask_jobqueue.SLURMCluster`` on a cluster (``docs/python.md`` has the example). Each
worker process makes its own :class:`floodseg.Segmenter` on first use (a GPU context per
process) and keeps it for the tasks that follow. A task is a pure function of its chunk, so a
worker lost mid-run costs only a recomputation: Dask reruns its tasks elsewhere and no frame is
lost or doubled.

Spatial axes are never split (the distance transform and watershed need the whole frame):
an array chunked in y or x is rechunked to whole frames first.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

import floodseg

__all__ = ["segment", "measure"]


def _axes_of(ndim: int, shape, axes: Optional[str]) -> str:
    if axes is not None:
        return axes
    if ndim == 2:
        return "yx"
    if ndim == 3:
        return "yxc" if shape[2] in (3, 4) else "tyx"
    if ndim == 4:
        return "tyxc"
    raise floodseg.errors.InputError(
        f"bad image data: an image is (H, W), (H, W, 3|4), (T, H, W) or (T, H, W, 3|4); "
        f"this array has {ndim} dimensions"
    )


def _segment_block(block: np.ndarray, backend: str, words, axes: str) -> np.ndarray:
    seg = floodseg._segmenter(backend)
    return seg._inner.segment(block, words, axes)


def segment(array: Any, *, backend: str = "auto", axes: Optional[str] = None,
            **params: Any):
    """A lazy dask array of labels (uint32, ``(T, H, W)`` or ``(H, W)``), chunked along time
    as ``array`` is; computing it gives exactly ``floodseg.segment(numpy_array, **params)``.

    ``array``: a dask array (or anything ``dask.array.asarray`` takes: a NumPy or Zarr array)
    laid out as :func:`floodseg.segment` reads it. Parameters are checked now, in the caller,
    so a typo fails before any task runs. With the CPU backend, run one thread per worker
    process (``threads_per_worker=1``, and ``RAYON_NUM_THREADS=1`` in the workers' environment
    for one core each) or leave floodseg's own threads to fill the cores."""
    import dask.array as da

    words = floodseg._check(params)
    floodseg.Segmenter  # noqa: B018 - the package is importable in the workers
    if backend not in ("auto", "cpu", "gpu"):
        raise floodseg.errors.ParameterError(
            f'invalid parameter backend: {backend!r} is not one of "auto", "cpu", "gpu"')
    arr = da.asarray(array)
    ax = _axes_of(arr.ndim, arr.shape, axes)
    if len(ax) != arr.ndim:
        raise floodseg.errors.ParameterError(
            f"invalid parameter axes: {ax!r} names {len(ax)} axes; the array has {arr.ndim}")
    if ax[0] != "t":
        # one frame: one task
        arr = arr.rechunk(-1)
        return arr.map_blocks(_segment_block, backend, words, ax, dtype=np.uint32,
                              drop_axis=[2] if ax == "yxc" else [],
                              meta=np.empty((0, 0), np.uint32))
    whole = {i: -1 for i in range(1, arr.ndim)}
    arr = arr.rechunk(whole)
    return arr.map_blocks(_segment_block, backend, words, ax, dtype=np.uint32,
                          drop_axis=[3] if ax == "tyxc" else [],
                          meta=np.empty((0, 0, 0), np.uint32))


def _measure_block(labels: np.ndarray, image: Optional[np.ndarray], start: int):
    import pandas as pd

    m = floodseg.measure(labels, image)
    df = pd.DataFrame(m)
    if "frame" in df:
        df["frame"] += start
    return df


def measure(labels: Any, image: Any = None):
    """Per-object measurements of a label stack ``(T, H, W)`` (e.g. :func:`segment`'s result),
    as a lazy dask dataframe with one partition per chunk of frames: the columns of
    :func:`floodseg.measure`, ``frame`` counted from the stack's start."""
    import dask
    import dask.array as da
    import dask.dataframe as dd

    lab = da.asarray(labels)
    if lab.ndim != 3:
        raise floodseg.errors.InputError(
            f"bad image data: labels to measure by frame are (T, H, W); these are {lab.shape}")
    lab = lab.rechunk({1: -1, 2: -1})
    img = None
    if image is not None:
        img = da.asarray(image)
        if img.shape[:3] != lab.shape:
            raise floodseg.errors.InputError(
                f"bad image data: the image is {img.shape} but the labels {lab.shape}")
        img = img.rechunk({0: lab.chunks[0], **{i: -1 for i in range(1, img.ndim)}})
    meta = _measure_block(np.zeros((1, 1, 1), np.uint32),
                          None if img is None else np.zeros((1, 1, 1) + img.shape[3:], img.dtype), 0)
    parts = []
    start = 0
    lab_blocks = lab.to_delayed().ravel()
    img_blocks = [None] * len(lab_blocks) if img is None else img.to_delayed().ravel()
    for lb, ib, n in zip(lab_blocks, img_blocks, lab.chunks[0]):
        parts.append(dask.delayed(_measure_block)(lb, ib, start))
        start += n
    return dd.from_delayed(parts, meta=meta.iloc[:0])
