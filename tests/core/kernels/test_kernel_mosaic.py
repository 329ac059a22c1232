"""pixelate against the naive reference: exact cell means, ragged cells, noise, order, views, errors."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_helpers import LAYOUTS, edge_boxes, random_image
from kernel_reference import cell_noise as ref_cell_noise
from kernel_reference import pixelate as ref_pixelate

from veilcv.core.kernels import pixelate
from veilcv.core.kernels._mosaic_jit import cell_noise
from veilcv.errors import ValidationError


@pytest.mark.parametrize("cells", [1, 2, 3, 8])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_edge_box_alone_matches_reference(rng, layout, cells):
    img = random_image(rng, layout)
    for box in edge_boxes(*layout[:2]):
        got = pixelate(img.copy(), [box], cells=cells)
        np.testing.assert_array_equal(got, ref_pixelate(img, [box], cells), err_msg=str(box))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_all_edge_boxes_in_order_with_noise(rng, layout):
    img = random_image(rng, layout)
    boxes = edge_boxes(*layout[:2])
    for noise, seed in [(0, 0), (1, 5), (40, 2**64 - 1), (255, 123)]:
        got = pixelate(img.copy(), boxes, cells=3, noise=noise, seed=seed)
        np.testing.assert_array_equal(
            got, ref_pixelate(img, boxes, 3, noise, seed), err_msg=f"{noise} {seed}"
        )


def test_cell_means_round_half_up():
    # 2x2 cells with sums 2 (mean 0.5 -> 1), 5 (1.25 -> 1), 6 (1.5 -> 2), 1019 (254.75 -> 255).
    img = np.array([[1, 1, 1, 2, 0, 0], [0, 0, 1, 1, 0, 0]], np.uint8)
    pixelate(img, [[0, 0, 4, 2]], cells=1)
    assert img[:, :4].tolist() == [[1, 1, 1, 1], [1, 1, 1, 1]]
    img = np.array([[0, 1, 2, 2], [0, 1, 1, 1]], np.uint8)
    pixelate(img, [[0, 0, 2, 2], [2, 0, 4, 2]], cells=1)
    assert img.tolist() == [[1, 1, 2, 2], [1, 1, 2, 2]]
    img = np.array([[255, 254], [255, 255]], np.uint8)
    pixelate(img, [[0, 0, 2, 2]], cells=1)
    assert (img == 255).all()


def test_ragged_edge_cells_are_exact_means():
    # 10 x 7 region, cells=2 -> k = ceil(7 / 2) = 4: cells 4+4+2 wide and 4+3 tall.
    img = np.arange(70, dtype=np.uint8).reshape(7, 10)
    out = pixelate(img.copy(), [[0, 0, 10, 7]], cells=2)
    for ys, xs in [(slice(0, 4), slice(8, 10)), (slice(4, 7), slice(0, 4)), (slice(4, 7), slice(8, 10))]:
        block = img[ys, xs].astype(int)
        assert (out[ys, xs] == (2 * block.sum() + block.size) // (2 * block.size)).all()
    assert len(np.unique(out)) == 6


def test_cell_size_follows_the_shorter_side():
    img = np.arange(64 * 32, dtype=np.uint32).reshape(32, 64).astype(np.uint8)
    out = pixelate(img.copy(), [[0, 0, 64, 32]], cells=4)  # k = 8: 8 x 4 cells
    assert out[::8, ::8].shape == (4, 8)
    assert (np.repeat(np.repeat(out[::8, ::8], 8, 0), 8, 1) == out).all()


def test_small_region_with_one_pixel_cells_changes_only_by_noise(rng):
    img = random_image(rng, (10, 10, 3))
    np.testing.assert_array_equal(pixelate(img.copy(), [[2, 2, 7, 9]], cells=8), img)
    noisy = pixelate(img.copy(), [[2, 2, 7, 9]], cells=8, noise=30, seed=1)
    assert not np.array_equal(noisy, img)


def test_noise_is_seeded_bounded_and_per_cell():
    img = np.full((64, 64, 3), 128, np.uint8)
    a = pixelate(img.copy(), [[0, 0, 64, 64]], cells=8, noise=20, seed=7)
    b = pixelate(img.copy(), [[0, 0, 64, 64]], cells=8, noise=20, seed=7)
    c = pixelate(img.copy(), [[0, 0, 64, 64]], cells=8, noise=20, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.min() >= 108 and a.max() <= 148
    cellvals = a[::8, ::8].reshape(-1, 3)
    assert len({tuple(v) for v in cellvals.tolist()}) > 50  # cells and channels differ
    assert (np.repeat(np.repeat(a[::8, ::8], 8, 0), 8, 1) == a).all()  # constant within a cell


def test_noise_hash_matches_reference_including_extremes():
    for args in [(0, 0, 0, 0, 0, 1), (2**64 - 1, 3, 9, 4, 2, 255), (12345, 0, 1, 1, 3, 17)]:
        assert int(cell_noise(np.uint64(args[0]), *args[1:])) == ref_cell_noise(*args)


def test_overlapping_boxes_apply_in_order(rng):
    img = random_image(rng, (40, 40, 3))
    boxes = [[0, 0, 30, 30], [5, 5, 40, 40]]  # grids do not line up, so order matters
    got = pixelate(img.copy(), boxes, cells=3)
    np.testing.assert_array_equal(got, ref_pixelate(img, boxes, 3))
    other_order = pixelate(img.copy(), boxes[::-1], cells=3)
    assert not np.array_equal(got, other_order)


@pytest.mark.parametrize("shape", [(1, 1), (1, 1, 3), (1, 9, 4), (9, 1)])
def test_degenerate_images(rng, shape):
    img = random_image(rng, shape)
    for box in [[0, 0, 9, 9], [-1, -1, 1, 1]]:
        got = pixelate(img.copy(), [box], cells=2, noise=9, seed=3)
        np.testing.assert_array_equal(got, ref_pixelate(img, [box], 2, 9, 3))


def test_views_are_redacted_where_the_caller_sees_them(rng):
    base = random_image(rng, (36, 44, 3))
    boxes = [[-3, 2, 19, 21], [6, 5, 40, 30]]
    for make in (
        lambda a: a[3:33, 5:40],
        lambda a: a[:, ::3],
        lambda a: a[::-1, :, ::-1],
        lambda a: a[..., 0],
    ):
        got_base = base.copy()
        view = make(got_base)
        expect = ref_pixelate(np.ascontiguousarray(view), boxes, 4, 3, 9)
        pixelate(view, boxes, cells=4, noise=3, seed=9)
        np.testing.assert_array_equal(view, expect)
        untouched = np.ones(base.shape, bool)
        make(untouched)[...] = False
        np.testing.assert_array_equal(got_base[untouched], base[untouched])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(cells=0), r"cells: expected an integer in \[1, 2147483647\], got 0"),
        (dict(cells=2.0), "cells: expected an integer"),
        (dict(noise=256), r"noise: expected an integer in \[0, 255\], got 256"),
        (dict(noise=-1), "got -1"),
        (dict(seed=-1), r"seed: expected an integer in \[0, 18446744073709551615\], got -1"),
        (dict(seed=2**64), "seed: expected"),
        (
            dict(boxes=np.zeros((1, 4), np.float64)),
            "boxes: expected integer pixel coordinates, got dtype float64",
        ),
        (dict(boxes=[[0, 0, 1, -(2**31) - 1]]), "boxes: expected coordinates within int32"),
        # a valid box first: the int64 fast path must still refuse the call before painting anything
        (dict(boxes=np.array([[0, 0, 3, 3], [0, 0, 1, 2**31]])), "boxes: expected coordinates within int32"),
        (dict(noise=True), r"noise: expected an integer in \[0, 255\], got bool True"),
        (dict(image=np.zeros((3, 3, 2), np.uint8)), r"image: expected shape \(H, W\) or"),
        (dict(image=np.zeros((3, 3, 3), np.int16)), "image: expected dtype uint8, got int16"),
    ],
)
def test_bad_input_raises_before_any_change(kwargs, message):
    img = np.arange(27, dtype=np.uint8).reshape(3, 3, 3)
    args = dict(image=img, boxes=[[0, 0, 3, 3]]) | kwargs
    with pytest.raises(ValidationError, match=message):
        pixelate(args.pop("image"), args.pop("boxes"), **args)
    assert (img == np.arange(27).reshape(3, 3, 3)).all()


def test_numpy_integer_arguments_match_python_ints(rng):
    img = random_image(rng, (9, 11, 3))
    want = pixelate(img.copy(), [[1, 2, 9, 8]], cells=3, noise=4, seed=5)
    got = pixelate(
        img.copy(),
        np.array([[1, 2, 9, 8]], np.uint16),
        cells=np.int8(3),
        noise=np.uint8(4),
        seed=np.uint64(5),
    )
    np.testing.assert_array_equal(got, want)
