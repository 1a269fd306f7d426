"""OME-Zarr in and out: the CLI and Python read an OME-Zarr image (NGFF 0.5 / Zarr v3, and
0.4 / Zarr v2) and write labels into its labels/<name> group or a standalone label image; the
labels read back through ome-zarr-py equal the TIFF output; an interrupted run is never listed
as a label image, and --resume finishes it identically."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile

import floodseg
from conftest import cli_path, read_labels, run_cli

zarr = pytest.importorskip("zarr")
ome_zarr = pytest.importorskip("ome_zarr")
from ome_zarr.io import parse_url  # noqa: E402
from ome_zarr.reader import Reader  # noqa: E402
from ome_zarr.writer import write_image  # noqa: E402


def make_movie(d: Path, frames: int, size: str = "160x128", seed: int = 11) -> np.ndarray:
    run_cli("synth", "timelapse", "-o", d / "movie.tif", "--gt", d / "gt", "--frames", frames,
            "--size", size, "--cells", "6", "--seed", seed)
    return tifffile.imread(d / "movie.tif")


def write_ome(path: Path, data: np.ndarray, axes: str, version: str = "0.5") -> None:
    if version == "0.5":
        store = parse_url(str(path), mode="w").store
        root = zarr.group(store=store, zarr_format=3)
        write_image(data, root, axes=axes, scaler=None)
    else:
        root = zarr.open_group(str(path), mode="w", zarr_format=2)
        write_image(data, root, axes=axes, scaler=None, fmt=ome_zarr.format.FormatV04())


def ome_labels(path: Path, name: str) -> np.ndarray:
    """The label image `name` of the OME-Zarr image at `path`, through ome-zarr-py (its reader
    also yields the source image the label image names)."""
    reader = Reader(parse_url(str(path / "labels" / name)))
    nodes = [n for n in reader()
             if "image-label" in n.zarr.root_attrs.get("ome", n.zarr.root_attrs)]
    assert nodes, f"ome-zarr-py finds no label image at labels/{name}"
    return np.asarray(nodes[0].data[0])


def level0(path: Path) -> np.ndarray:
    """The image's full-resolution array, wherever its multiscales put it."""
    g = zarr.open_group(str(path), mode="r")
    attrs = g.attrs.get("ome", g.attrs)
    return np.asarray(g[attrs["multiscales"][0]["datasets"][0]["path"]])


def listed_labels(path: Path) -> list:
    g = zarr.open_group(str(path / "labels"), mode="r")
    return list(g.attrs.get("ome", {}).get("labels", []))


@pytest.fixture(scope="module")
def movie(tmp_path_factory):
    d = tmp_path_factory.mktemp("omezarr")
    stack = make_movie(d, 8)
    run_cli("segment", d / "movie.tif", "-o", d / "want.tif", "--preset", "rods", "--backend",
            "cpu", "-q")
    return d, stack, read_labels(d / "want.tif")


def test_cli_writes_into_the_images_labels_group(movie, tmp_path):
    d, stack, want = movie
    img = tmp_path / "movie.zarr"
    write_ome(img, stack, "tyx")
    before = level0(img)
    run_cli("segment", img, "-o", img, "--preset", "rods", "--backend", "cpu", "-q")
    assert listed_labels(img) == ["cells"]
    got = ome_labels(img, "cells")
    assert got.dtype == np.uint32 and np.array_equal(got, want)
    # the image itself is untouched
    assert np.array_equal(level0(img), before)
    # a second name is added to the list; the same name again is refused
    run_cli("segment", img, "-o", img, "--preset", "rods", "--backend", "cpu", "-q",
            "--label-name", "rods2")
    assert listed_labels(img) == ["cells", "rods2"]
    r = run_cli("segment", img, "-o", img, "--preset", "rods", "-q", ok=False)
    assert r.returncode == 2 and "already holds a label image" in r.stderr
    # labels into the image's own arrays, or inside it elsewhere, are refused
    r = run_cli("segment", img, "-o", img / "sub.zarr", "--preset", "rods", "-q", ok=False)
    assert r.returncode == 2 and "inside the input" in r.stderr
    r = run_cli("segment", img, "-o", img, "--label-name", "../x", "-q", ok=False)
    assert r.returncode == 2 and "label name" in r.stderr


def test_python_writes_the_same_labels(movie, tmp_path):
    d, stack, want = movie
    img = tmp_path / "movie.zarr"
    write_ome(img, stack, "tyx")
    s = floodseg.segment_file(img, img, preset="rods", backend="cpu", label_name="py")
    assert s["frames"] == 8
    assert np.array_equal(ome_labels(img, "py"), want)
    # and floodseg.segment on the array read by zarr gives the same
    arr = level0(img)
    assert np.array_equal(floodseg.segment(arr, backend="cpu", preset="rods"), want)


def test_standalone_label_image_and_tiff_to_zarr(movie, tmp_path):
    d, stack, want = movie
    out = tmp_path / "labels.zarr"
    run_cli("segment", d / "movie.tif", "-o", out, "--preset", "rods", "--backend", "cpu", "-q")
    root = zarr.open_group(str(out), mode="r")
    assert "image-label" in root.attrs["ome"]
    assert root.attrs["ome"]["multiscales"][0]["axes"][0]["name"] == "t"
    nodes = list(Reader(parse_url(str(out)))())
    assert np.array_equal(np.asarray(nodes[0].data[0]), want)
    attrs = nodes[0].zarr.root_attrs
    assert "image-label" in attrs.get("ome", attrs)


def test_track_from_an_ome_zarr_image_to_an_ome_zarr_label_image(movie, tmp_path):
    """`track` on an OME-Zarr image tracks what the TIFF gives; `-o X.zarr` holds the CTC masks'
    track ids and is read back by ome-zarr-py and by `track --labels`; the image's own label
    image (signed int32, written by another tool) is tracked too."""
    d, stack, want = movie
    img = tmp_path / "movie.zarr"
    write_ome(img, stack, "tyx")
    run_cli("track", d / "movie.tif", "--preset", "rods", "--backend", "cpu", "-q",
            "--ctc", tmp_path / "tif_ctc")
    out = tmp_path / "tracked.zarr"
    run_cli("track", img, "--preset", "rods", "--backend", "cpu", "-q", "--ctc",
            tmp_path / "zarr_ctc", "-o", out)
    names = sorted(p.name for p in (tmp_path / "tif_ctc").iterdir())
    for n in names:
        assert (tmp_path / "tif_ctc" / n).read_bytes() == (tmp_path / "zarr_ctc" / n).read_bytes()
    masks = np.stack([tifffile.imread(tmp_path / "zarr_ctc" / f"mask{t:03}.tif")
                      for t in range(len(stack))])
    nodes = list(Reader(parse_url(str(out)))())
    got = np.asarray(nodes[0].data[0])
    assert got.dtype == np.uint32 and np.array_equal(got, masks)
    # tracked again from those labels: the same tracks
    run_cli("track", "--labels", out, "-q", "--ctc", tmp_path / "again_ctc")
    assert (tmp_path / "again_ctc" / "res_track.txt").read_text() == \
        (tmp_path / "zarr_ctc" / "res_track.txt").read_text()
    # another tool's label image in the image's labels/ group, as signed integers
    root = zarr.open_group(str(img), mode="a")
    from ome_zarr.writer import write_labels
    write_labels(want.astype(np.int32), root, name="theirs", axes="tyx", scaler=None)
    r = run_cli("track", "--labels", img, "-q", "--ctc", tmp_path / "x", ok=False)
    assert r.returncode == 2 and "labels/theirs" in r.stderr
    run_cli("track", "--labels", img / "labels" / "theirs", "-q", "--ctc", tmp_path / "theirs")
    # -o the image itself: into its labels/ group, listed there (default name "tracks")
    run_cli("track", img, "--preset", "rods", "--backend", "cpu", "-q", "-o", img)
    assert "tracks" in listed_labels(img)
    tracks = zarr.open_group(str(img / "labels" / "tracks"), mode="r")
    assert tracks.attrs["ome"]["image-label"]["source"]["image"] == "../../"
    assert np.array_equal(np.asarray(tracks["0"]), masks)
    r = run_cli("track", img, "--preset", "rods", "-q", "-o", img, ok=False)
    assert r.returncode == 2 and "already holds a label image" in r.stderr
    r = run_cli("track", img, "--preset", "rods", "-q", "-o", out.with_name("x.zarr"),
                "--label-name", "t2", ok=False)
    assert r.returncode == 2 and "--label-name" in r.stderr
    seg = tmp_path / "seg.tif"
    tifffile.imwrite(seg, want.astype(np.uint16))
    run_cli("track", "--labels", seg, "-q", "--ctc", tmp_path / "seg_ctc")
    assert (tmp_path / "theirs" / "res_track.txt").read_text() == \
        (tmp_path / "seg_ctc" / "res_track.txt").read_text()


def test_channels_and_ngff_04(movie, tmp_path):
    d, stack, want = movie
    # tcyx with the cells in channel 1
    tc = np.stack([np.zeros_like(stack), stack], axis=1)
    img = tmp_path / "tc.zarr"
    write_ome(img, tc, "tcyx")
    r = run_cli("segment", img, "-o", tmp_path / "x.tif", "--preset", "rods", "-q", ok=False)
    assert r.returncode == 2 and "channel" in r.stderr
    run_cli("segment", img, "-o", tmp_path / "c1.tif", "--preset", "rods", "--channel", "1",
            "--backend", "cpu", "-q")
    assert np.array_equal(read_labels(tmp_path / "c1.tif"), want)
    # NGFF 0.4 on Zarr v2 reads; labels go to a standalone 0.5 image
    v2 = tmp_path / "v04.zarr"
    write_ome(v2, stack, "tyx", version="0.4")
    run_cli("segment", v2, "-o", tmp_path / "v04_labels.tif", "--preset", "rods", "--backend",
            "cpu", "-q")
    assert np.array_equal(read_labels(tmp_path / "v04_labels.tif"), want)
    # one frame, yx
    one = tmp_path / "one.zarr"
    write_ome(one, stack[3], "yx")
    run_cli("segment", one, "-o", one, "--preset", "rods", "--backend", "cpu", "-q")
    assert np.array_equal(ome_labels(one, "cells"), want[3])


def test_interrupted_run_is_not_listed_and_resume_finishes_it(tmp_path):
    d = tmp_path
    frames = 40
    stack = make_movie(d, frames, size="256x256", seed=5)
    run_cli("segment", d / "movie.tif", "-o", d / "want.tif", "--preset", "rods", "--backend",
            "cpu", "--threads", "1", "-q")
    want = read_labels(d / "want.tif")
    img = d / "movie.zarr"
    write_ome(img, stack, "tyx")
    env = dict(os.environ, XDG_RUNTIME_DIR=os.environ.get("XDG_RUNTIME_DIR", "/tmp"),
               RAYON_NUM_THREADS="1")
    child = subprocess.Popen([str(cli_path()), "segment", str(img), "-o", str(img), "--preset",
                              "rods", "--backend", "cpu", "--threads", "1", "-q"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    chunks = img / "labels" / "cells" / "0" / "c"
    start = time.time()
    while time.time() - start < 30:
        if chunks.is_dir() and sum(1 for _ in chunks.iterdir()) >= 3:
            break
        time.sleep(0.005)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate()
    assert child.returncode == 130, err
    assert "--resume" in err
    done = sum(1 for _ in chunks.iterdir())
    assert 0 < done < frames, done
    # no OME-Zarr reader lists the unfinished labels
    assert "cells" not in listed_labels(img)
    r = run_cli("segment", img, "-o", img, "--preset", "rods", "--backend", "cpu", "-q",
                "--resume")
    assert np.array_equal(ome_labels(img, "cells"), want)
    assert listed_labels(img) == ["cells"]
