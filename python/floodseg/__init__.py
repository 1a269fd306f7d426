"""floodseg: segmentation and tracking of bacteria and blob-like cells — NumPy in, labels out.

The pipeline of scikit-image's lecture (gray → threshold → opening → distance → markers →
watershed) as WGSL compute shaders on the GPU, with an exact CPU twin; the same library as
the ``floodseg`` command line, so a call gives the same bytes as the command on the same
input and flags.

Keywords are the command line's flags with ``_`` for ``-``: ``threshold=180`` (or
``"otsu"``), ``dark=True``, ``open=1``, ``min_distance=10``, ``footprint=10``,
``preset="rods"``, ``markers="hmax"``, ``h=1``, ``min_area=50`` … (``floodseg segment
--help`` lists them all). ``None`` means "not given" (the default or the preset's value).

>>> import numpy as np, floodseg
>>> labels = floodseg.segment(image, preset="rods")          # doctest: +SKIP
>>> table = floodseg.measure(labels, image)                   # doctest: +SKIP

See ``docs/python.md`` in the repository for notebooks, napari and Dask.
"""

from __future__ import annotations

import difflib
import threading
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np

from . import errors
from ._floodseg import Segmenter as _Segmenter
from ._floodseg import __version__, check_words as _check_words
from ._floodseg import eval as _eval
from ._floodseg import flag_names as _flag_names
from ._floodseg import measure as _measure
from .errors import Error, ParameterError

__all__ = [
    "Segmenter",
    "segment",
    "stages",
    "measure",
    "eval",
    "track",
    "segment_file",
    "parameters",
    "Error",
    "errors",
    "__version__",
]

# flag name (with "-") → whether it takes a value
_FLAGS: Dict[str, bool] = dict(_flag_names())
# keywords that are not pipeline parameters of an array call
_NOT_PARAMETERS = {"backend": "the backend is chosen by backend= (or Segmenter(backend=...))",
                   "channel": "pick a channel of an array with image[..., c]"}


def parameters() -> List[str]:
    """The keywords :func:`segment` takes (the pipeline's flags, ``_`` for ``-``)."""
    return [f.replace("-", "_") for f in _FLAGS if f not in _NOT_PARAMETERS]


def _words(params: Mapping[str, Any]) -> List[str]:
    """Keywords → the command line's words (``{"min_distance": 5}`` → ``["--min-distance", "5"]``)."""
    words: List[str] = []
    for key, value in params.items():
        flag = key.replace("_", "-")
        if flag in _NOT_PARAMETERS:
            raise ParameterError(f"invalid parameter {key}: {_NOT_PARAMETERS[flag]}")
        if flag not in _FLAGS:
            near = difflib.get_close_matches(key, parameters(), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise ParameterError(
                f"unknown parameter {key!r}{hint} (floodseg.parameters() lists them)"
            )
        if value is None:
            continue
        takes_value = _FLAGS[flag]
        if not takes_value:
            if not isinstance(value, (bool, np.bool_)):
                raise ParameterError(f"invalid parameter {key}: {value!r} is not True or False")
            if value:
                words.append(f"--{flag}")
            elif flag == "dark":
                words.append("--bright")
            elif flag == "bright":
                words.append("--dark")
            continue
        if isinstance(value, (bool, np.bool_)):
            raise ParameterError(f"invalid parameter {key}: takes a value, not {value!r}")
        if isinstance(value, (float, np.floating)):
            text = repr(float(value))
        else:
            text = str(value)
        words += [f"--{flag}", text]
    return words


class Segmenter:
    """A backend ready to segment: ``"cpu"`` (the CPU twin), ``"gpu"`` (wgpu; an error when no
    adapter exists) or ``"auto"`` (a hardware GPU when there is one, else the CPU).

    The GPU context (device, compiled pipelines) is made once and reused by every call; one
    Segmenter may be shared by several threads (the GIL is released while it works).
    """

    def __init__(self, backend: str = "auto") -> None:
        self._backend = backend
        self._inner = _Segmenter(backend)

    def __reduce__(self):  # a Segmenter pickles as its backend's name (Dask, multiprocessing)
        return (Segmenter, (self._backend,))

    def __repr__(self) -> str:
        return f"floodseg.Segmenter({self._backend!r})  # {self.description}"

    @property
    def backend(self) -> str:
        """The backend asked for (``"auto"``, ``"cpu"`` or ``"gpu"``)."""
        return self._backend

    @property
    def description(self) -> str:
        """Which backend runs: ``cpu``, ``gpu: <adapter>`` or ``cpu (why not the GPU)``."""
        return self._inner.description

    @property
    def kind(self) -> str:
        """``"cpu"`` or ``"gpu"``."""
        return self._inner.kind

    def segment(self, image: Any, *, axes: Optional[str] = None, **params: Any) -> np.ndarray:
        """Labels of ``image``: uint32, ``(H, W)`` for one frame, ``(T, H, W)`` for a stack.

        ``image``: an array ``(H, W)``, ``(H, W, 3|4)`` (RGB, RGBA), ``(T, H, W)`` or
        ``(T, H, W, 3|4)`` of uint8, uint16 or float32 (float64 is converted to float32).
        ``axes`` (``"yx"``, ``"yxc"``, ``"tyx"``, ``"tyxc"``) says which when the shape does
        not: a 3-D array whose last axis is 3 or 4 long is read as colour unless
        ``axes="tyx"``. Each frame is numbered 1..n in raster order, as ``floodseg segment``
        numbers it; 0 is background. Empty arrays give empty labels.
        ``threads=N``: frames of a stack segmented at once (the result does not depend on it).
        """
        return self._inner.segment(image, _words(params), axes)

    def stages(self, image: Any, *, axes: Optional[str] = None, **params: Any) -> Dict[str, Any]:
        """Every stage image of one frame, the lecture's step-by-step pictures: ``gray``
        (the keys the pipeline compares: 8-bit values, 16-bit counts, rgb2gray × 255 for RGB),
        ``smoothed`` and ``flattened`` (with ``smooth=`` / ``background=``), ``mask`` and
        ``opened`` (bool), ``distance`` (float32, Euclidean) and ``distance2`` (its square,
        exact integers), ``core_opened``/``core_distance2`` (with ``core=``), ``peaks`` (bool,
        the markers' pixels), ``markers`` and ``labels`` (uint32), and ``threshold`` (the
        level used, a float: Otsu's when ``threshold="otsu"``)."""
        return self._inner.stages(image, _words(params), axes)

    def track(
        self,
        image: Any = None,
        *,
        labels: Any = None,
        max_gap: int = 2,
        max_drift: int = 30,
        interval: Optional[float] = None,
        axes: Optional[str] = None,
        **params: Any,
    ) -> Dict[str, Any]:
        """Follow cells through a stack; see :func:`floodseg.track`."""
        if labels is not None and params:
            raise ParameterError(
                "invalid parameter labels: segmentation keywords "
                f"({', '.join(sorted(params))}) apply to images; labels= are tracked as they are"
            )
        return self._inner.track(image, labels, _words(params), int(max_gap), int(max_drift),
                                 interval, axes)


_segmenters: Dict[str, Segmenter] = {}
_lock = threading.Lock()


def _segmenter(backend: str) -> Segmenter:
    """One Segmenter per backend and process, made on first use (a worker process of Dask
    makes its own)."""
    with _lock:
        s = _segmenters.get(backend)
        if s is None:
            s = _segmenters[backend] = Segmenter(backend)
        return s


def segment(image: Any, *, backend: str = "auto", axes: Optional[str] = None,
            **params: Any) -> np.ndarray:
    """Labels of ``image`` (uint32, ``(H, W)`` or ``(T, H, W)``), byte-identical to
    ``floodseg segment`` on the same input and flags. See :meth:`Segmenter.segment`.

    >>> floodseg.segment(image, threshold=180, dark=True, open=1, min_distance=10)  # doctest: +SKIP
    """
    return _segmenter(backend).segment(image, axes=axes, **params)


def stages(image: Any, *, backend: str = "auto", axes: Optional[str] = None,
           **params: Any) -> Dict[str, Any]:
    """Every stage image of one frame; see :meth:`Segmenter.stages`."""
    return _segmenter(backend).stages(image, axes=axes, **params)


def measure(labels: Any, image: Any = None, *, axes: Optional[str] = None) -> Dict[str, np.ndarray]:
    """The ``--stats`` columns of every object, ready for ``pandas.DataFrame``: ``label``,
    ``area``, ``centroid_row``, ``centroid_col``, ``bbox_*`` (scikit-image's bbox),
    ``major_axis_length``, ``minor_axis_length``, ``orientation``, ``eccentricity`` (as
    ``skimage.measure.regionprops``) and, with ``image``, ``mean_intensity`` (in the image's
    gray units). ``labels`` (H, W) or (T, H, W), any integer type; for a stack a ``frame``
    column comes first. Rows in order of frame, then label."""
    return _measure(labels, image, axes)


def eval(gt: Any, pred: Any, iou: Union[float, Sequence[float]] = 0.5) -> Any:  # noqa: A001
    """StarDist's matching of ``pred`` against ``gt`` (label images (H, W), or stacks
    (T, H, W) summed over frames): ``tp``, ``fp``, ``fn``, ``precision``, ``recall``, ``f1``,
    ``mean_matched_iou``, ``panoptic_quality`` … at the IoU threshold ``iou`` (a dict), or at
    each of several thresholds (a list of dicts). The same numbers as ``floodseg eval``."""
    if isinstance(iou, (int, float, np.integer, np.floating)):
        return _eval(gt, pred, [float(iou)])[0]
    return _eval(gt, pred, [float(t) for t in iou])


def track(
    image: Any = None,
    *,
    labels: Any = None,
    max_gap: int = 2,
    max_drift: int = 30,
    interval: Optional[float] = None,
    backend: str = "auto",
    axes: Optional[str] = None,
    **params: Any,
) -> Dict[str, Any]:
    """Follow cells through a time-lapse: ``image`` (T, H, W) segmented with ``params`` (as
    :func:`segment`), or ``labels=`` (T, H, W) from any tool, tracked as they are.

    Returns a dict: ``labels`` (T, H, W uint32, each cell numbered by its track id, as
    ``floodseg track -o``), ``tracks`` (columns ``track_id, t, y, x, parent_id, area, length,
    touches_border, interpolated``: napari's Tracks layer takes
    ``np.c_[track_id, t, y, x]`` with ``graph``), ``lineage`` (one row per track, the
    ``--lineage`` columns; NaN where a value does not apply; with ``interval`` in minutes also
    ``cycle_minutes`` and ``growth_rate_per_hour``) and ``graph`` ({daughter: [mother]}).
    ``max_gap``: frames a cell may be missed and found again; ``max_drift``: the largest
    stage drift between frames searched for, in pixels."""
    return _segmenter(backend).track(image, labels=labels, max_gap=max_gap, max_drift=max_drift,
                                     interval=interval, axes=axes, **params)


def segment_file(
    input: Union[str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]]],
    output: Union[str, "os.PathLike[str]"],
    *,
    backend: str = "auto",
    stats: Optional[Union[str, "os.PathLike[str]"]] = None,
    counts: Optional[Union[str, "os.PathLike[str]"]] = None,
    overlay: Optional[Union[str, "os.PathLike[str]"]] = None,
    label_name: Optional[str] = None,
    resume: bool = False,
    channel: Optional[int] = None,
    **params: Any,
) -> Dict[str, Any]:
    """``floodseg segment INPUT -o OUTPUT`` from Python: files in, files out, with the CLI's
    outputs and safety rules (never over an input; partial results never under final names).

    ``input``: an image, a TIFF stack, a folder, a glob, a list of files, or an OME-Zarr image
    (``.zarr``). ``output``: ``X.tif`` (a stack for several frames), a folder, or ``X.zarr`` —
    an OME-Zarr label image; with an OME-Zarr input, ``output`` naming the input itself writes
    into its ``labels/<label_name>`` group (default ``cells``), readable by ome-zarr-py and
    napari. ``resume=True`` continues an interrupted per-frame or Zarr run. ``stats``,
    ``counts``, ``overlay``: the CLI's tables and pictures. Returns ``{"frames", "objects",
    "seconds", "resumed"}``."""
    import os

    inputs = [os.fspath(p) for p in ([input] if isinstance(input, (str, os.PathLike)) else input)]
    words = _words(params)
    f = lambda p: None if p is None else os.fspath(p)  # noqa: E731
    return _segmenter(backend)._inner.segment_files(
        inputs, os.fspath(output), words, f(stats), f(counts), f(overlay), label_name,
        bool(resume), channel)


def _check(params: Mapping[str, Any]) -> List[str]:
    """The words of ``params``, checked as a call would check them (raises the same errors)."""
    words = _words(params)
    _check_words(words)
    return words
