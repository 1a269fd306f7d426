"""Bad input raises a floodseg.Error (bad parameters and input also ValueError) with the
command line's message, and never crashes the interpreter."""

from __future__ import annotations

import numpy as np
import pytest

import floodseg
from floodseg import errors
from conftest import DATA, run_cli

IMG = (np.arange(40 * 50, dtype=np.uint32).reshape(40, 50) * 37 % 251).astype(np.uint8)


def test_parameter_errors_carry_the_cli_message(tmp_path):
    with pytest.raises(errors.ParameterError) as e:
        floodseg.segment(IMG, backend="cpu", min_eccentricity=2)
    assert isinstance(e.value, ValueError) and isinstance(e.value, floodseg.Error)
    cli = run_cli("segment", DATA / "omnipose" / "ecoli_phase.tif", "-o", tmp_path / "x.tif",
                  "--min-eccentricity", "2", ok=False)
    assert cli.returncode == 2
    assert str(e.value) in cli.stderr


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(treshold=3), "did you mean 'threshold'"),
        (dict(markers="foo"), "possible values: peaks, regional, hmax"),
        (dict(h=1), "--h"),  # h without hmax markers
        (dict(h="0.3", markers="hmax"), "--h"),
        (dict(threshold="high"), "--threshold"),
        (dict(dark="yes"), "not True or False"),
        (dict(open=True), "takes a value"),
        (dict(open=-1), "-1"),
        (dict(channel=0), "image\\[..., c\\]"),
        (dict(threads=0), "--threads"),
        (dict(min_distance=5, markers="hmax"), "--min-distance"),
    ],
)
def test_bad_parameters(kw, match):
    with pytest.raises(errors.ParameterError, match=match):
        floodseg.segment(IMG, backend="cpu", **kw)


def test_bad_backend():
    with pytest.raises(errors.ParameterError, match="backend"):
        floodseg.Segmenter("tpu")


@pytest.mark.parametrize(
    "image,error,match",
    [
        (np.zeros(5, np.uint8), errors.InputError, "dimensions"),
        (np.zeros((2, 2, 2, 2, 2), np.uint8), errors.InputError, "dimensions"),
        (np.zeros((2, 4, 4, 2), np.uint8), errors.InputError, "channels"),
        (np.zeros((4, 4), bool), errors.DtypeError, "bool"),
        (np.zeros((4, 4), np.int16), errors.DtypeError, "int16"),
        (np.zeros((4, 4), np.complex64), errors.DtypeError, "complex"),
        (np.array([[1.0, np.nan], [0.0, 2.0]], np.float32), errors.InputError, "non-finite"),
        (np.array([[1.0, np.inf], [0.0, 2.0]], np.float64), errors.InputError, "non-finite"),
        ("not an image", errors.DtypeError, "<U12"),
    ],
)
def test_bad_images(segmenter, image, error, match):
    with pytest.raises(error, match=match):
        segmenter.segment(image)


def test_bad_image_in_a_stack_names_the_frame(cpu):
    stack = np.ones((3, 5, 6), np.float32)
    stack[2, 1, 1] = np.nan
    with pytest.raises(errors.InputError, match="frame 2"):
        cpu.segment(stack)


def test_wrong_axes(cpu):
    with pytest.raises(errors.ParameterError, match="axes"):
        cpu.segment(IMG, axes="tyx")
    with pytest.raises(errors.ParameterError, match="axes"):
        cpu.segment(IMG, axes="xy")


def test_measure_and_eval_refuse_mismatches():
    labels = np.zeros((4, 5), np.uint16)
    with pytest.raises(errors.InputError, match="shape|labels"):
        floodseg.measure(labels, np.zeros((5, 4), np.uint8))
    with pytest.raises(errors.InputError, match="same shape"):
        floodseg.eval(labels, np.zeros((5, 4), np.uint16))
    with pytest.raises(errors.InputError, match="0..=4294967295"):
        floodseg.measure(np.full((2, 2), -1, np.int32))
    with pytest.raises(errors.DtypeError, match="integer"):
        floodseg.measure(np.zeros((2, 2), np.float32))
    with pytest.raises(errors.ParameterError, match="iou"):
        floodseg.eval(labels, labels, iou=1.5)


def test_track_refuses_bad_input(cpu):
    with pytest.raises(errors.InputError, match=r"\(T, H, W\)"):
        cpu.track(labels=np.zeros((4, 4), np.uint16))
    with pytest.raises(errors.ParameterError, match="labels"):
        cpu.track(labels=np.zeros((2, 4, 4), np.uint16), preset="rods")
    with pytest.raises(errors.ParameterError, match="max-gap"):
        cpu.track(labels=np.zeros((2, 4, 4), np.uint16), max_gap=99)
    with pytest.raises(errors.ParameterError, match="give the images"):
        cpu.track()
    with pytest.raises(errors.InputError, match="nothing to track"):
        cpu.track(labels=np.zeros((0, 4, 4), np.uint16))
