"""floodseg.segment equals `floodseg segment` byte for byte, on both backends.

The images are the repository's sample data (8/16-bit gray, RGB, RGBA, float, a stack) and
edge cases (1×1, empty); none was tuned to: each case is the CLI's flags as a user would
write them, and the Python call gets the same flags as keywords.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
import tifffile

import floodseg
from conftest import DATA, read_labels, run_cli

# (file, CLI flags, the same as keywords)
CASES = [
    ("ecoli/img_0000.tif", ["--preset", "lecture"], dict(preset="lecture")),
    ("omnipose/ec_5I_t141xy5c1.tif", ["--preset", "rods"], dict(preset="rods")),
    ("colicoords/brightfield.tif", ["--dark", "--open", "1", "--markers", "hmax"],
     dict(dark=True, open=1, markers="hmax")),
    ("supersegger/2014_05_30_controlagaint001xy1c1.tif",
     ["--preset", "rods", "--background", "8", "--smooth", "1"],
     dict(preset="rods", background=8, smooth=1)),
    ("omnipose/ecoli_phase.tif", ["--dark", "--open", "1", "--markers", "regional", "--distance", "jfa"],
     dict(dark=True, open=1, markers="regional", distance="jfa")),
    ("generated/rgba8_packbits.tif", ["--min-distance", "1", "--markers", "peaks"],
     dict(min_distance=1, markers="peaks")),
    ("generated/rgb16.tif", ["--threshold", "30000", "--min-distance", "2"],
     dict(threshold=30000, min_distance=2)),
    ("colicoords/ds1/00001_brightfield.tif",
     ["--preset", "rods", "--min-eccentricity", "0.7", "--max-width", "12.5", "--clear-border", "0"],
     dict(preset="rods", min_eccentricity=0.7, max_width=12.5, clear_border=0)),
    ("ecoli/timelapse_crop.tif", ["--preset", "lecture", "--min-distance", "5"],
     dict(preset="lecture", min_distance=5)),
]


def cli_labels(tmp_path, image_path, flags):
    out = tmp_path / "labels.tif"
    run_cli("segment", image_path, "-o", out, "--backend", "cpu", "-q", *flags)
    return read_labels(out)


@pytest.mark.parametrize("name,flags,kw", CASES, ids=[c[0].split("/")[-1] for c in CASES])
def test_equals_the_cli(tmp_path, segmenter, name, flags, kw):
    path = DATA / name
    image = tifffile.imread(path)
    want = cli_labels(tmp_path, path, flags)
    got = segmenter.segment(image, **kw)
    assert got.dtype == np.uint32
    assert got.shape == want.shape
    assert np.array_equal(got, want)
    assert got.max() > 0, "a case that finds nothing compares nothing"


def test_one_pixel_and_tiny_images_equal_the_cli(tmp_path, segmenter):
    for shape, value in [((1, 1), 200), ((1, 5), 250), ((3, 1), 7)]:
        image = np.full(shape, value, np.uint8)
        image.flat[0] = 255
        path = tmp_path / f"im_{shape[0]}x{shape[1]}.tif"
        tifffile.imwrite(path, image)
        want = cli_labels(tmp_path, path, ["--threshold", "100", "--min-distance", "1"])
        got = segmenter.segment(image, threshold=100, min_distance=1)
        assert np.array_equal(got, want), shape


def test_uint16_stack_equals_the_cli_frame_by_frame(tmp_path, segmenter):
    stack = tifffile.imread(DATA / "omnipose" / "e1t1_crop.tif")[:96, :128]
    stack = np.stack([stack, np.roll(stack, 7, axis=1), stack[::-1].copy()])
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, stack, imagej=True, metadata={"axes": "TYX"})
    want = cli_labels(tmp_path, path, ["--preset", "rods"])
    got = segmenter.segment(stack, preset="rods")
    assert got.shape == (3, 96, 128)
    assert np.array_equal(got, want)
    # each frame numbered on its own, as the CLI does
    assert np.array_equal(got[0], segmenter.segment(stack[0], preset="rods"))


def test_empty_arrays_give_empty_labels(segmenter):
    # Dask probes functions with empty arrays
    for shape in [(0, 0), (0, 5), (4, 0), (0, 4, 5), (0, 0, 0), (2, 0, 3), (0, 0, 3), (0, 2, 2, 4)]:
        got = segmenter.segment(np.zeros(shape, np.uint8))
        assert got.dtype == np.uint32
        want = shape[:-1] if shape[-1] in (3, 4) else shape
        assert got.shape == want


def test_float64_is_read_as_float32(cpu):
    image = tifffile.imread(DATA / "colicoords" / "brightfield.tif")
    a = cpu.segment(image, dark=True, open=1, markers="hmax")
    b = cpu.segment(image.astype(np.float64), dark=True, open=1, markers="hmax")
    assert np.array_equal(a, b)


def test_views_and_axes(cpu):
    image = tifffile.imread(DATA / "omnipose" / "ec_5I_t141xy5c1.tif")
    want = cpu.segment(image, preset="rods")
    # a non-contiguous view is copied, then segmented the same
    wide = np.zeros((image.shape[0], image.shape[1] * 2), image.dtype)
    wide[:, ::2] = image
    assert np.array_equal(cpu.segment(wide[:, ::2], preset="rods"), want)
    # Fortran order
    assert np.array_equal(cpu.segment(np.asfortranarray(image), preset="rods"), want)
    # a stack of three frames 3 pixels wide is not RGB when axes says so
    thin = np.ascontiguousarray(np.stack([image[:, :3]] * 3))
    assert cpu.segment(thin, axes="tyx", preset="rods").shape == (3, image.shape[0], 3)
    # RGB is read as colour
    rgb = tifffile.imread(DATA / "ecoli" / "img_0000.tif")
    assert cpu.segment(rgb, preset="lecture").shape == rgb.shape[:2]
    # a list becomes an array (int64 here, which floodseg does not guess a range for)
    with pytest.raises(floodseg.errors.DtypeError, match="astype"):
        cpu.segment(image.tolist(), preset="rods")
    assert np.array_equal(cpu.segment(np.asarray(image.tolist(), np.uint16), preset="rods"), want)


def test_threads_do_not_change_the_labels(cpu):
    stack = tifffile.imread(DATA / "ecoli" / "timelapse_crop.tif")
    one = cpu.segment(stack, preset="lecture", threads=1)
    many = cpu.segment(stack, preset="lecture", threads=3)
    assert np.array_equal(one, many)


def test_a_segmenter_shared_by_threads(segmenter):
    stack = tifffile.imread(DATA / "ecoli" / "timelapse_crop.tif")[:4]
    want = [segmenter.segment(f, preset="lecture") for f in stack]
    got = [None] * len(stack)

    def work(i):
        got[i] = segmenter.segment(stack[i], preset="lecture")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(stack))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for w, g in zip(want, got):
        assert np.array_equal(w, g)


def test_module_functions_use_a_cached_segmenter():
    image = tifffile.imread(DATA / "omnipose" / "ecoli_phase.tif")
    a = floodseg.segment(image, backend="cpu", dark=True, open=1)
    b = floodseg.Segmenter("cpu").segment(image, dark=True, open=1)
    assert np.array_equal(a, b)
    assert floodseg._segmenter("cpu") is floodseg._segmenter("cpu")


def test_stages_are_the_cli_stage_images(tmp_path, cpu):
    path = DATA / "omnipose" / "ecoli_phase.tif"
    image = tifffile.imread(path)
    s = cpu.stages(image, dark=True, open=1, smooth=1)
    out = tmp_path / "stages"
    run_cli("segment", path, "-o", tmp_path / "l.tif", "--save-stages", out, "--backend", "cpu",
            "-q", "--dark", "--open", "1", "--smooth", "1")
    for name in ["mask", "opened", "distance2", "peaks", "markers", "labels", "smoothed"]:
        want = tifffile.imread(out / f"{name}.tif")
        assert np.array_equal(s[name].astype(np.uint64), want.astype(np.uint64)), name
    assert s["mask"].dtype == bool
    assert np.allclose(s["distance"] ** 2, s["distance2"], rtol=1e-6)
    assert isinstance(s["threshold"], float)
    assert np.array_equal(s["labels"], cpu.segment(image, dark=True, open=1, smooth=1))


def test_segmenter_reports_and_pickles(cpu):
    import pickle

    assert cpu.kind == "cpu" and cpu.description.startswith("cpu")
    again = pickle.loads(pickle.dumps(cpu))
    assert again.backend == "cpu"
