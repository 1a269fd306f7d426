"""Ctrl-C stops a long call: `segment`, `track` and `segment_file` run off the interpreter's
thread and watch for signals, so SIGINT raises KeyboardInterrupt within about a frame (not
after the whole stack), with what was kept; an interrupted `segment_file` leaves no output
under its final name."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest
import tifffile

import floodseg

if not hasattr(signal, "SIGINT") or os.name == "nt":
    pytest.skip("needs POSIX signals", allow_module_level=True)


def stack(frames: int, side: int = 96) -> np.ndarray:
    """Dark blobs on a bright field, a different shift per frame."""
    y, x = np.mgrid[0:side, 0:side]
    out = np.empty((frames, side, side), np.uint8)
    for t in range(frames):
        img = np.full((side, side), 200.0)
        for cy, cx in ((20, 25), (50, 60), (70, 30), (30, 75)):
            cy, cx = (cy + t) % side, (cx + 2 * t) % side
            img -= 120 * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / 40.0)
        out[t] = img.clip(0, 255).astype(np.uint8)
    return out


def interrupted(call, after: float = 0.3):
    """Run `call()` with SIGINT sent after `after` s: (the KeyboardInterrupt, seconds taken)."""
    timer = threading.Timer(after, os.kill, (os.getpid(), signal.SIGINT))
    t0 = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt) as e:
            call()
    finally:
        timer.cancel()
    return e.value, time.perf_counter() - t0


def full_time(call) -> float:
    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0


def test_ctrl_c_stops_segment_within_a_frame():
    movie = stack(2000)
    whole = full_time(lambda: floodseg.segment(movie[:200], backend="cpu", threads=1)) * 10
    e, took = interrupted(lambda: floodseg.segment(movie, backend="cpu", threads=1))
    assert "stopped after" in str(e), e
    assert took < 0.3 + whole / 4, (took, whole)


def test_ctrl_c_stops_track():
    labels = floodseg.segment(stack(400), backend="cpu")
    long = np.concatenate([labels] * 5)
    whole = full_time(lambda: floodseg.track(labels=long, backend="cpu"))
    if whole < 0.4:
        pytest.skip(f"tracking 2000 frames took {whole:.2f} s: too fast to interrupt reliably")
    e, took = interrupted(lambda: floodseg.track(labels=long, backend="cpu"), whole / 4)
    assert "stopped after" in str(e), e
    assert took < whole * 0.75, (took, whole)


def test_ctrl_c_stops_segment_file_and_keeps_no_complete_looking_output(tmp_path):
    src = tmp_path / "movie.tif"
    tifffile.imwrite(src, stack(1500))
    out = tmp_path / "labels.tif"
    e, took = interrupted(
        lambda: floodseg.segment_file(src, out, backend="cpu", threads=1))
    assert "stopped after" in str(e), e
    assert not out.exists(), "an interrupted run left the stack under its final name"
