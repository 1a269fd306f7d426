"""The installed package: its typed stubs, its version, and that the GIL is released while
floodseg works."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import tifffile

import floodseg
from conftest import DATA


def test_typed_and_versioned():
    here = Path(floodseg.__file__).parent
    assert (here / "py.typed").exists()
    assert (here / "_floodseg.pyi").exists()
    assert floodseg.__version__.count(".") == 2
    assert "threshold" in floodseg.parameters() and "backend" not in floodseg.parameters()
    for name in floodseg.__all__:
        assert getattr(floodseg, name).__doc__ or name == "__version__", name


def test_the_gil_is_released_while_segmenting(cpu):
    image = tifffile.imread(DATA / "colicoords" / "ds1" / "00001_brightfield.tif")
    stack = np.stack([image] * 6)
    ticks = 0
    done = threading.Event()

    def work():
        cpu.segment(stack, preset="rods", threads=1)
        done.set()

    t = threading.Thread(target=work)
    t0 = time.perf_counter()
    t.start()
    while not done.is_set():
        ticks += 1  # Python keeps running in this thread meanwhile
        time.sleep(0.001)
    t.join()
    elapsed = time.perf_counter() - t0
    # with the GIL held the loop could not tick until segment returned
    assert ticks > 0.2 * elapsed / 0.001 * 0.25, (ticks, elapsed)
