"""floodseg.measure, floodseg.eval and floodseg.track equal the command line's --stats,
eval --json and track outputs on the same data."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import tifffile

import floodseg
from conftest import DATA, read_labels, run_cli


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("name,flags,kw", [
    ("omnipose/ecoli_phase.tif", ["--dark", "--open", "1"], dict(dark=True, open=1)),
    ("ecoli/timelapse_crop.tif", ["--preset", "lecture"], dict(preset="lecture")),
    ("ecoli/img_0000.tif", ["--preset", "lecture"], dict(preset="lecture")),
])
def test_measure_equals_stats(tmp_path, name, flags, kw):
    path = DATA / name
    run_cli("segment", path, "-o", tmp_path / "l.tif", "--stats", tmp_path / "s.csv",
            "--backend", "cpu", "-q", *flags)
    rows = read_csv(tmp_path / "s.csv")
    image = tifffile.imread(path)
    labels = floodseg.segment(image, backend="cpu", **kw)
    m = floodseg.measure(labels, image)
    assert len(m["label"]) == len(rows) > 0
    stack = labels.ndim == 3
    assert ("frame" in m) == stack
    for i, r in enumerate(rows):
        if stack:
            assert m["frame"][i] == int(r["frame"])
        for col, values in m.items():
            if col == "frame":
                continue
            # the CSV holds round-trip decimals: the same f64
            assert values[i] == type(values[i])(float(r[col])), (i, col)


def test_measure_without_image_and_any_label_numbering():
    gt = tifffile.imread(DATA / "ecoli" / "mask_0000_deflate.tif")
    m = floodseg.measure(gt)
    assert "mean_intensity" not in m
    ids = np.unique(gt)[1:]
    assert list(m["label"]) == list(ids)
    # sparse huge ids measure the same
    big = np.where(gt > 0, gt.astype(np.int64) * 100_000_000, 0)
    mb = floodseg.measure(big)
    assert list(mb["label"]) == [int(i) * 100_000_000 for i in ids]
    assert np.array_equal(mb["area"], m["area"])
    assert np.array_equal(m["area"], [np.count_nonzero(gt == i) for i in ids])
    empty = floodseg.measure(np.zeros((0, 0), np.uint8))
    assert len(empty["label"]) == 0


def test_eval_equals_the_cli(tmp_path):
    gt_path = DATA / "ecoli" / "mask_0000_deflate.tif"
    image = tifffile.imread(DATA / "ecoli" / "img_0000.tif")
    pred = floodseg.segment(image, backend="cpu", preset="lecture")
    tifffile.imwrite(tmp_path / "pred.tif", pred.astype(np.uint16))
    out = run_cli("eval", "--gt", gt_path, "--pred", tmp_path / "pred.tif", "--json",
                  "--iou", "0.5,0.75,0.9").stdout
    want = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    got = floodseg.eval(tifffile.imread(gt_path), pred, iou=[0.5, 0.75, 0.9])
    assert len(got) == len(want) == 3
    for g, w in zip(got, want):
        for k, v in w.items():
            assert g[k] == pytest.approx(v, rel=1e-12, abs=1e-12), k
    one = floodseg.eval(tifffile.imread(gt_path), pred)
    assert one == got[0]
    # stacks are summed over frames
    gt2 = np.stack([tifffile.imread(gt_path)] * 2)
    two = floodseg.eval(gt2, np.stack([pred] * 2))
    assert two["tp"] == 2 * one["tp"] and two["fp"] == 2 * one["fp"]


@pytest.fixture(scope="module")
def timelapse(tmp_path_factory):
    d = tmp_path_factory.mktemp("tl")
    run_cli("synth", "timelapse", "-o", d / "movie.tif", "--gt", d / "gt", "--frames", "12",
            "--size", "160x128", "--cells", "6", "--drift", "2", "--seed", "77")
    return d


def test_track_images_equals_the_cli(timelapse, tmp_path, segmenter):
    run_cli("track", timelapse / "movie.tif", "--preset", "rods", "--backend", "cpu", "-q",
            "-o", tmp_path / "ids.tif", "--lineage", tmp_path / "lineage.csv",
            "--tracks", tmp_path / "tracks.csv", "--interval", "5")
    movie = tifffile.imread(timelapse / "movie.tif")
    r = segmenter.track(movie, preset="rods", interval=5)
    want = read_labels(tmp_path / "ids.tif")
    assert r["labels"].shape == want.shape == movie.shape
    assert np.array_equal(r["labels"], want)
    rows = read_csv(tmp_path / "lineage.csv")
    lin = r["lineage"]
    assert len(lin["track_id"]) == len(rows) > 0
    for i, row in enumerate(rows):
        for col, values in lin.items():
            text = row[col]
            v = values[i]
            if text == "":
                assert np.isnan(v), (i, col)
            elif isinstance(v, (bool, np.bool_)):
                assert int(v) == int(text), (i, col)
            else:
                assert float(v) == pytest.approx(float(text), abs=2e-3 if "." in text else 0), (i, col)
    tracks = read_csv(tmp_path / "tracks.csv")
    assert len(tracks) == len(r["tracks"]["track_id"])
    assert [int(t["track_id"]) for t in tracks] == list(r["tracks"]["track_id"])
    # napari's graph: every daughter → her mother
    for tid, parent in zip(lin["track_id"], lin["parent_id"]):
        if parent:
            assert r["graph"][int(tid)] == [int(parent)]


def test_track_labels_equals_the_cli(timelapse, tmp_path, cpu):
    gt_masks = sorted((timelapse / "gt" / "TRA").glob("man_track*.tif"))
    stack = np.stack([tifffile.imread(p) for p in gt_masks])
    tifffile.imwrite(tmp_path / "gt.tif", stack)
    run_cli("track", "--labels", tmp_path / "gt.tif", "-q", "-o", tmp_path / "ids.tif")
    r = cpu.track(labels=stack)
    assert np.array_equal(r["labels"], read_labels(tmp_path / "ids.tif"))
    # any numbering of the same masks gives the same tracks
    shuffled = np.where(stack > 0, stack.astype(np.int64) * 7 + 1000, 0)
    assert np.array_equal(cpu.track(labels=shuffled)["labels"], r["labels"])
