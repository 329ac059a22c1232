"""Batched kernels: identical to a loop of single-frame calls and to the reference, serial or threaded."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_helpers import edge_boxes, random_image
from kernel_reference import black_box as ref_black_box
from kernel_reference import pixelate as ref_pixelate

from veilcv.core.kernels import _threading, black_box, black_box_batch, pixelate, pixelate_batch
from veilcv.errors import ValidationError


def ragged(rng, t: int, h: int, w: int) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    per_frame = []
    for i in range(t):
        n = int(rng.integers(0, 5)) if i % 3 else 0  # some frames have no box
        x0 = rng.integers(-5, w, n)
        y0 = rng.integers(-5, h, n)
        per_frame.append(np.stack([x0, y0, x0 + rng.integers(-2, w, n), y0 + rng.integers(-2, h, n)], 1))
    per_frame[-1] = np.array(edge_boxes(h, w)[1:])
    boxes = np.concatenate(per_frame).astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in per_frame])])
    return per_frame, boxes, offsets


@pytest.fixture(params=["serial", "threaded"])
def mode(request, monkeypatch):
    if request.param == "threaded":  # every batch is "large": frames go to the pool
        monkeypatch.setattr(_threading, "MIN_PARALLEL_BYTES", 0)
        monkeypatch.setattr(_threading, "MIN_BATCH_MOSAIC_BYTES", 0)
    return request.param


@pytest.mark.parametrize("layout", [(7, 11, 13), (7, 11, 13, 1), (7, 11, 13, 3), (7, 11, 13, 4)])
def test_black_box_batch_equals_loop_and_reference(rng, layout, mode):
    frames = random_image(rng, layout)
    per_frame, boxes, offsets = ragged(rng, *layout[:3])
    for shape in ("rect", "ellipse"):
        got = black_box_batch(frames.copy(), boxes, offsets, color=77, shape=shape, threads=2)
        loop = frames.copy()
        for f, b in zip(loop, per_frame, strict=True):
            black_box(f, b, color=77, shape=shape)
        np.testing.assert_array_equal(got, loop)
        for f_in, f_out, b in zip(frames, got, per_frame, strict=True):
            np.testing.assert_array_equal(f_out, ref_black_box(f_in, b, 77, shape))


@pytest.mark.parametrize("layout", [(7, 11, 13), (7, 11, 13, 3), (7, 11, 13, 4)])
def test_pixelate_batch_equals_loop_and_reference(rng, layout, mode):
    frames = random_image(rng, layout)
    per_frame, boxes, offsets = ragged(rng, *layout[:3])
    got = pixelate_batch(frames.copy(), boxes, offsets, cells=3, noise=12, seed=99, threads=2)
    loop = frames.copy()
    for f, b in zip(loop, per_frame, strict=True):
        pixelate(f, b, cells=3, noise=12, seed=99)
    np.testing.assert_array_equal(got, loop)
    for f_in, f_out, b in zip(frames, got, per_frame, strict=True):
        np.testing.assert_array_equal(f_out, ref_pixelate(f_in, b, 3, 12, 99))


def test_batch_views(rng, mode):
    base = random_image(rng, (6, 20, 22, 3))
    per_frame, boxes, offsets = ragged(rng, 3, 12, 14)
    for make in (
        lambda a: a[::2, 4:16, 3:17],
        lambda a: a[1:4, 4:16, 3:17, ::-1],
        lambda a: a[:3, 4:16, 3:17, 0],
    ):
        got_base = base.copy()
        view = make(got_base)
        expect = np.stack(
            [ref_pixelate(np.ascontiguousarray(f), b, 2) for f, b in zip(view, per_frame, strict=True)]
        )
        pixelate_batch(view, boxes, offsets, cells=2, threads=2)
        np.testing.assert_array_equal(view, expect)
        untouched = np.ones(base.shape, bool)
        make(untouched)[...] = False
        np.testing.assert_array_equal(got_base[untouched], base[untouched])


def test_single_large_region_split_by_cell_rows_is_exact(rng, monkeypatch):
    monkeypatch.setattr(_threading, "MIN_PARALLEL_BYTES", 0)
    monkeypatch.setattr(_threading, "MIN_BATCH_MOSAIC_BYTES", 0)
    img = random_image(rng, (45, 38, 3))
    for box in ([0, 0, 38, 45], [-4, 3, 30, 50]):
        for noise in (0, 9):
            got = pixelate(img.copy(), [box], cells=5, noise=noise, seed=2, threads=3)
            np.testing.assert_array_equal(got, ref_pixelate(img, [box], 5, noise, 2))


def test_empty_batch_and_frames_without_boxes(rng):
    frames = random_image(rng, (3, 4, 5, 3))
    out = black_box_batch(frames.copy(), np.zeros((0, 4), np.int32), [0, 0, 0, 0])
    np.testing.assert_array_equal(out, frames)
    empty = np.zeros((0, 4, 5, 3), np.uint8)
    assert pixelate_batch(empty, [], [0]) is empty


@pytest.mark.parametrize(
    ("frames", "offsets", "message"),
    [
        (
            np.zeros((2, 4, 4, 3), np.uint8),
            [0, 1],
            r"offsets: expected shape \(3,\) for 2 frames, got \(2,\)",
        ),
        (
            np.zeros((2, 4, 4, 3), np.uint8),
            [0, 2, 1],
            "offsets: expected non-decreasing values from 0 to len",
        ),
        (np.zeros((2, 4, 4, 3), np.uint8), [1, 1, 1], "got 1..1"),
        (
            np.zeros((2, 4, 4, 3), np.uint8),
            [0.0, 0.5, 1.0],
            "offsets: expected an integer array, got dtype float64",
        ),
        (
            np.zeros((4, 4), np.uint8),
            [0, 1],
            r"frames: expected shape \(T, H, W\) or \(T, H, W, 1\|3\|4\), got \(4, 4\)",
        ),
        (np.zeros((2, 4, 4, 2), np.uint8), [0, 0, 1], r"got \(2, 4, 4, 2\)"),
        (np.zeros((2, 4, 4, 3), np.float64), [0, 0, 1], "frames: expected dtype uint8, got float64"),
    ],
)
def test_bad_batch_input(frames, offsets, message):
    for fn in (black_box_batch, pixelate_batch):
        with pytest.raises(ValidationError, match=message):
            fn(frames, [[0, 0, 1, 1]], offsets)
