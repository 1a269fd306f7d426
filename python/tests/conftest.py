"""Shared fixtures: the repository's data, the command line to compare with, the backends.

The GPU backend runs on whatever adapter wgpu finds (Mesa's lavapipe in CI); with
FLOODSEG_REQUIRE_GPU=1 (set by scripts/test.sh) a missing adapter fails the GPU tests instead of
skipping them, as in the Rust suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import tifffile

import floodseg

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"


def cli_path() -> Path:
    env = os.environ.get("FLOODSEG_CLI")
    if env:
        return Path(env)
    for p in (ROOT / "target" / "release" / "floodseg", ROOT / "target" / "debug" / "floodseg"):
        if p.exists():
            return p
    found = shutil.which("floodseg")
    if found:
        return Path(found)
    pytest.fail("no floodseg binary: run `cargo build --release --bin floodseg` (or set FLOODSEG_CLI)")


def run_cli(*args: object, ok: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, XDG_RUNTIME_DIR=os.environ.get("XDG_RUNTIME_DIR", "/tmp"))
    r = subprocess.run([str(cli_path()), *map(str, args)], capture_output=True, text=True, env=env)
    if ok and r.returncode != 0:
        raise AssertionError(f"floodseg {' '.join(map(str, args))} exited {r.returncode}:\n{r.stderr}")
    return r


def read_labels(path: Path) -> np.ndarray:
    return tifffile.imread(path).astype(np.uint32)


_gpu = None


@pytest.fixture(scope="session")
def gpu() -> floodseg.Segmenter:
    global _gpu
    if _gpu is None:
        try:
            _gpu = floodseg.Segmenter("gpu")
        except floodseg.errors.BackendError as e:
            if os.environ.get("FLOODSEG_REQUIRE_GPU") == "1":
                pytest.fail(f"FLOODSEG_REQUIRE_GPU=1 but no GPU adapter: {e}")
            pytest.skip(f"no GPU adapter: {e}")
    return _gpu


@pytest.fixture(scope="session")
def cpu() -> floodseg.Segmenter:
    return floodseg.Segmenter("cpu")


@pytest.fixture(params=["cpu", "gpu"])
def segmenter(request) -> floodseg.Segmenter:
    return request.getfixturevalue(request.param)
