"""floodseg.dask on a LocalCluster of worker processes equals the CLI, and a worker killed
mid-run loses no frame."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
import tifffile

import floodseg
import floodseg.dask
from conftest import read_labels, run_cli

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
zarr = pytest.importorskip("zarr")

FRAMES = 100


@pytest.fixture(scope="module")
def movie(tmp_path_factory):
    d = tmp_path_factory.mktemp("dask")
    run_cli("synth", "timelapse", "-o", d / "movie.tif", "--frames", str(FRAMES), "--size",
            "192x160", "--cells", "8", "--seed", "31", "--drift", "1", "--gt", d / "gt")
    stack = tifffile.imread(d / "movie.tif")
    assert stack.shape[0] == FRAMES
    z = zarr.open_array(str(d / "movie.zarr"), mode="w", shape=stack.shape,
                        chunks=(4,) + stack.shape[1:], dtype=stack.dtype)
    z[:] = stack
    run_cli("segment", d / "movie.tif", "-o", d / "labels.tif", "--preset", "rods", "--backend",
            "cpu", "-q")
    return d, read_labels(d / "labels.tif")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None,
                                       env={"RAYON_NUM_THREADS": "1",
                                            "XDG_RUNTIME_DIR": os.environ.get("XDG_RUNTIME_DIR", "/tmp")})
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_threads_scheduler_equals_numpy(movie):
    d, want = movie
    arr = da.from_zarr(str(d / "movie.zarr"))
    lazy = floodseg.dask.segment(arr, backend="cpu", preset="rods")
    assert lazy.dtype == np.uint32 and lazy.shape == want.shape
    assert lazy.chunks[0] == arr.chunks[0]
    got = lazy.compute(scheduler="threads")
    assert np.array_equal(got, want)


def test_local_cluster_equals_the_cli(movie, client):
    d, want = movie
    lazy = floodseg.dask.segment(da.from_zarr(str(d / "movie.zarr")), backend="cpu",
                                 preset="rods")
    got = lazy.compute()
    assert np.array_equal(got, want)
    # spatially chunked input is rechunked to whole frames
    odd = da.from_zarr(str(d / "movie.zarr")).rechunk((7, 50, 60))
    assert np.array_equal(floodseg.dask.segment(odd, backend="cpu", preset="rods").compute(), want)


def test_a_killed_worker_loses_no_frame(movie, client):
    d, want = movie
    arr = da.from_zarr(str(d / "movie.zarr")).rechunk((1, -1, -1))
    lazy = floodseg.dask.segment(arr, backend="cpu", preset="rods")
    futures = client.compute(list(lazy.to_delayed().ravel()))
    done = 0
    for _ in distributed.as_completed(futures):
        done += 1
        if done == 10:
            break
    # SIGKILL a worker process that still has work (its nanny starts a new one)
    pids = client.run(os.getpid)
    busy = [w for w, tasks in client.processing().items() if tasks] or list(pids)
    assert sum(f.done() for f in futures) < len(futures), "killed after the run, not during it"
    os.kill(pids[busy[0]], signal.SIGKILL)
    got = np.concatenate(client.gather(futures))
    assert got.shape == want.shape
    assert np.array_equal(got, want)
    # the killed process is gone: the frames it held were recomputed elsewhere
    assert pids[busy[0]] not in client.run(os.getpid).values()


def test_measure_as_a_dataframe(movie, client):
    d, want = movie
    arr = da.from_zarr(str(d / "movie.zarr"))
    labels = floodseg.dask.segment(arr, backend="cpu", preset="rods")
    df = floodseg.dask.measure(labels, arr).compute()
    ref = floodseg.measure(want, tifffile.imread(d / "movie.tif"))
    assert list(df["frame"]) == list(ref["frame"])
    for col, values in ref.items():
        assert np.array_equal(df[col].to_numpy(), values), col


def test_parameters_are_checked_before_any_task(movie):
    d, _ = movie
    with pytest.raises(floodseg.errors.ParameterError, match="threshold"):
        floodseg.dask.segment(da.from_zarr(str(d / "movie.zarr")), treshold=3)
    with pytest.raises(floodseg.errors.ParameterError, match="min-eccentricity"):
        floodseg.dask.segment(da.from_zarr(str(d / "movie.zarr")), min_eccentricity=3)
