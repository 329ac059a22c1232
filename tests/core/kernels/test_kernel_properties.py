"""Property tests: any image, any boxes, the kernels equal the naive reference bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from kernel_helpers import KERNEL_SETTINGS
from kernel_reference import black_box as ref_black_box
from kernel_reference import pixelate as ref_pixelate

from veilcv.core.kernels import black_box, black_box_batch, pixelate, pixelate_batch


@st.composite
def images(draw, lead: int = 0):
    h = draw(st.integers(1, 18))
    w = draw(st.integers(1, 18))
    ch = draw(st.sampled_from([None, 1, 3, 4]))
    shape = (draw(st.integers(1, 3)),) * lead + (h, w) + (() if ch is None else (ch,))
    seed = draw(st.integers(0, 2**32 - 1))
    img = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    if draw(st.booleans()):  # a crop of a larger array: rows are packed but not adjacent
        parent = np.zeros(shape[:lead] + (h + 2, w + 3) + shape[lead + 2 :], np.uint8)
        sl = (slice(None),) * lead + (slice(1, h + 1), slice(2, w + 2))
        parent[sl] = img
        img = parent[sl]
    return img


def boxes_for(h: int, w: int):
    coord = st.integers(-6, max(h, w) + 6)
    return st.lists(st.tuples(coord, coord, coord, coord), max_size=6).map(
        lambda b: np.array(b, np.int64).reshape(-1, 4)
    )


def channels(img: np.ndarray, lead: int = 0) -> int:
    return img.shape[-1] if img.ndim == 3 + lead else 1


@KERNEL_SETTINGS
@given(data=st.data())
def test_black_box_equals_reference(data):
    img = data.draw(images())
    boxes = data.draw(boxes_for(*img.shape[:2]))
    color = data.draw(st.lists(st.integers(0, 255), min_size=channels(img), max_size=channels(img)))
    shape = data.draw(st.sampled_from(["rect", "ellipse"]))
    expect = ref_black_box(img, boxes, color, shape)
    np.testing.assert_array_equal(black_box(img, boxes, color=tuple(color), shape=shape), expect)


@KERNEL_SETTINGS
@given(data=st.data())
def test_pixelate_equals_reference(data):
    img = data.draw(images())
    boxes = data.draw(boxes_for(*img.shape[:2]))
    cells = data.draw(st.integers(1, 7))
    noise = data.draw(st.sampled_from([0, 1, 30, 255]))
    seed = data.draw(st.integers(0, 2**64 - 1))
    expect = ref_pixelate(img, boxes, cells, noise, seed)
    np.testing.assert_array_equal(pixelate(img, boxes, cells=cells, noise=noise, seed=seed), expect)


@KERNEL_SETTINGS
@given(data=st.data())
def test_batches_equal_per_frame_reference(data):
    frames = data.draw(images(lead=1))
    per_frame = [data.draw(boxes_for(*frames.shape[1:3])) for _ in range(frames.shape[0])]
    boxes = np.concatenate(per_frame)
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in per_frame])])
    threads = data.draw(st.integers(1, 3))
    shape = data.draw(st.sampled_from(["rect", "ellipse"]))
    expect = np.stack([ref_black_box(f, b, 200, shape) for f, b in zip(frames, per_frame, strict=True)])
    got = black_box_batch(frames.copy(), boxes, offsets, color=200, shape=shape, threads=threads)
    np.testing.assert_array_equal(got, expect)
    expect = np.stack([ref_pixelate(f, b, 3, 5, 11) for f, b in zip(frames, per_frame, strict=True)])
    got = pixelate_batch(frames, boxes, offsets, cells=3, noise=5, seed=11, threads=threads)
    np.testing.assert_array_equal(got, expect)
