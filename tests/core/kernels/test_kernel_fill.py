"""black_box against the naive reference: edge boxes, layouts, views, colours, ellipses, errors."""

from __future__ import annotations

import numpy as np
import pytest
from kernel_helpers import LAYOUTS, edge_boxes, random_image
from kernel_reference import black_box as ref_black_box
from kernel_reference import in_ellipse

from veilcv.core.kernels import black_box
from veilcv.errors import ValidationError, VeilcvError


@pytest.mark.parametrize("shape", ["rect", "ellipse"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_edge_box_alone_matches_reference(rng, layout, shape):
    img = random_image(rng, layout)
    for box in edge_boxes(*layout[:2]):
        got = black_box(img.copy(), np.array([box]), shape=shape)
        np.testing.assert_array_equal(got, ref_black_box(img, [box], 0, shape), err_msg=str(box))


@pytest.mark.parametrize("shape", ["rect", "ellipse"])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_all_edge_boxes_together_with_colour(rng, layout, shape):
    img = random_image(rng, layout)
    ch = layout[2] if len(layout) == 3 else 1
    color = tuple(int(v) for v in rng.integers(0, 256, ch))
    boxes = edge_boxes(*layout[:2])[1:]  # not the whole image, so the result is not one colour
    got = black_box(img.copy(), boxes, color=color, shape=shape)
    np.testing.assert_array_equal(got, ref_black_box(img, boxes, color, shape))
    assert not np.array_equal(got, img)


def test_returns_the_same_array_and_works_in_place(rng):
    img = random_image(rng, (8, 9, 3))
    before = img.copy()
    out = black_box(img, [[1, 1, 4, 4]], color=7)
    assert out is img
    assert (img[1:4, 1:4] == 7).all()
    img[1:4, 1:4] = before[1:4, 1:4]
    np.testing.assert_array_equal(img, before)


def test_one_by_one_image():
    for shape in ("rect", "ellipse"):
        img = np.full((1, 1, 3), 200, np.uint8)
        black_box(img, [[0, 0, 1, 1]], color=(1, 2, 3), shape=shape)
        assert img.tolist() == [[[1, 2, 3]]]
        img = np.full((1, 1), 200, np.uint8)
        black_box(img, [[1, 0, 2, 1], [-1, 0, 0, 1], [0, 0, 0, 1]], shape=shape)
        assert img.tolist() == [[200]]


@pytest.mark.parametrize("shape", ["rect", "ellipse"])
def test_overlapping_and_repeated_boxes(rng, shape):
    img = random_image(rng, (30, 31, 3))
    boxes = [[0, 0, 20, 20], [10, 10, 31, 30], [5, 5, 25, 25], [0, 0, 20, 20], [12, 0, 14, 30]]
    np.testing.assert_array_equal(
        black_box(img.copy(), boxes, shape=shape), ref_black_box(img, boxes, 0, shape)
    )


def test_no_box_and_empty_box_array_change_nothing(rng):
    img = random_image(rng, (5, 7, 3))
    for boxes in ([], np.zeros((0, 4), np.int32), [[3, 3, 3, 3]], [[4, 1, 2, 3]]):
        out = black_box(img.copy(), boxes)
        np.testing.assert_array_equal(out, img)


@pytest.mark.parametrize(
    "dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
)
def test_any_integer_box_dtype(rng, dtype):
    img = random_image(rng, (9, 9, 3))
    boxes = np.array([[1, 2, 7, 8]], dtype=dtype)
    np.testing.assert_array_equal(black_box(img.copy(), boxes), ref_black_box(img, boxes))


def test_caller_boxes_are_not_modified():
    boxes = np.array([[-5, -5, 50, 50]], np.int64)
    black_box(np.zeros((4, 4), np.uint8), boxes)
    assert boxes.tolist() == [[-5, -5, 50, 50]]


@pytest.mark.parametrize("shape", ["rect", "ellipse"])
def test_views_are_redacted_where_the_caller_sees_them(rng, shape):
    base = random_image(rng, (40, 50, 4))
    boxes = [[-3, 2, 9, 11], [6, 5, 20, 30], [15, -4, 40, 8]]
    views = {
        "crop (rows packed, written directly)": lambda a: a[5:35, 7:44],
        "crop of 3 channels (copied back)": lambda a: a[5:35, 7:44, :3],
        "column step (copied back)": lambda a: a[:, ::2],
        "row step (written directly)": lambda a: a[::3],
        "flipped rows (copied back)": lambda a: a[::-1],
        "reversed channels (copied back)": lambda a: a[:, :, ::-1],
        "one channel as (H, W)": lambda a: a[:, :, 1],
        "transposed (copied back)": lambda a: a.transpose(1, 0, 2),
    }
    for name, make in views.items():
        got_base = base.copy()
        view = make(got_base)
        expect_view = ref_black_box(np.ascontiguousarray(view), boxes, 9, shape)
        black_box(view, boxes, color=9, shape=shape)
        np.testing.assert_array_equal(view, expect_view, err_msg=name)
        # Only the view's pixels may change in the base array.
        untouched = np.ones(base.shape, bool)
        make(untouched)[...] = False
        np.testing.assert_array_equal(got_base[untouched], base[untouched], err_msg=name)


def test_ellipse_is_the_documented_pixel_centre_set():
    for w, h in [(1, 1), (2, 2), (4, 4), (5, 3), (6, 9), (10, 2), (33, 20)]:
        img = np.zeros((h + 4, w + 4), np.uint8)
        box = [2, 2, 2 + w, 2 + h]
        black_box(img, [box], color=1, shape="ellipse")
        expect = np.array([[in_ellipse(x, y, box) for x in range(w + 4)] for y in range(h + 4)], np.uint8)
        np.testing.assert_array_equal(img, expect, err_msg=f"{w}x{h}")
        # Symmetric, inside the box, and never empty for a non-empty box.
        assert img.sum() > 0 and (img == img[::-1]).all() and (img == img[:, ::-1]).all()
        assert img[:2].sum() == img[-2:].sum() == img[:, :2].sum() == img[:, -2:].sum() == 0


def test_huge_ellipse_is_exact_with_128_bit_products():
    # A box a billion pixels wide: products reach 2**120, beyond int64; the reference uses Python ints.
    img = np.zeros((20, 30), np.uint8)
    boxes = [[-(10**9), -5, 10**9 + 7, 15], [-(2**31), 3, 25, 2**31 - 1]]
    got = black_box(img.copy(), boxes, color=255, shape="ellipse")
    np.testing.assert_array_equal(got, ref_black_box(img, boxes, 255, "ellipse"))


def test_huge_ellipse_boundary_crossing_the_image_is_exact():
    # Width 2.1e9 and height 84001: the left end of the ellipse curves across this 21 x 40 image, and
    # every test along the boundary needs products of ~1e29, beyond 64 bits.
    img = np.zeros((21, 40), np.uint8)
    boxes = [[0, 10 - 42000, 2_100_000_000, 10 + 42001]]
    got = black_box(img.copy(), boxes, color=255, shape="ellipse")
    np.testing.assert_array_equal(got, ref_black_box(img, boxes, 255, "ellipse"))
    assert 0 < (got == 255).mean() < 1
    assert not np.array_equal(got[0], got[10])


def test_mul128_is_exact():
    from veilcv.core.kernels._fill_jit import _mul128

    rng = np.random.default_rng(5)
    values = [0, 1, 2**32 - 1, 2**32, 2**63, 2**64 - 1, *rng.integers(0, 2**63, 20, dtype=np.uint64).tolist()]
    for a in values:
        for b in values[::3]:
            hi, lo = _mul128(np.uint64(a), np.uint64(b))
            assert (int(hi) << 64) | int(lo) == a * b


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(image=[[1, 2]]), "image: expected a numpy.ndarray, got list"),
        (dict(image=np.zeros((4, 4), np.float32)), "image: expected dtype uint8, got float32"),
        (
            dict(image=np.zeros((4, 4, 2), np.uint8)),
            r"image: expected shape \(H, W\) or \(H, W, 1\|3\|4\), got \(4, 4, 2\)",
        ),
        (dict(image=np.zeros((4,), np.uint8)), r"got \(4,\)"),
        (dict(image=np.zeros((2, 4, 4, 3), np.uint8)), r"got \(2, 4, 4, 3\)"),
        (dict(boxes=[1, 2, 3, 4]), r"boxes: expected shape \(N, 4\) as \(x0, y0, x1, y1\), got \(4,\)"),
        (dict(boxes=np.zeros((2, 5), np.int32)), r"got \(2, 5\)"),
        (
            dict(boxes=np.zeros((1, 4), np.float32)),
            "boxes: expected integer pixel coordinates, got dtype float32",
        ),
        (dict(boxes=np.zeros((1, 4), bool)), "got dtype bool"),
        (
            dict(boxes=[[0, 0, 2**31, 4]]),
            r"boxes: expected coordinates within int32 \[-2\*\*31, 2\*\*31\), got 2147483648",
        ),
        (dict(boxes=np.array([[0, 0, 2**63, 1]], np.uint64)), "expected coordinates within int32"),
        (dict(color=256), r"color: expected an integer in \[0, 255\], got 256"),
        (dict(color=-1), r"got -1"),
        (dict(color=(1, 2)), "color: expected 3 value.s. for a 3-channel image, got 2"),
        (dict(color=1.5), "color: expected an integer 0..255 or one per channel, got float"),
        (dict(color=(1, 2, 300)), r"got 300"),
        (dict(shape="circle"), "shape: expected 'rect' or 'ellipse', got 'circle'"),
    ],
)
def test_bad_input_raises_one_line_validation_error_before_any_change(kwargs, message):
    img = np.full((4, 4, 3), 5, np.uint8)
    args = dict(image=img, boxes=[[0, 0, 2, 2]], color=0, shape="rect") | kwargs
    with pytest.raises(ValidationError, match=message) as info:
        black_box(args.pop("image"), args.pop("boxes"), **args)
    assert isinstance(info.value, VeilcvError) and "\n" not in str(info.value)
    assert (img == 5).all()


def test_read_only_image_is_refused():
    img = np.zeros((4, 4), np.uint8)
    img.flags.writeable = False
    with pytest.raises(ValidationError, match="expected a writable array"):
        black_box(img, [[0, 0, 1, 1]])


def test_out_of_range_box_leaves_every_box_unapplied():
    img = np.full((4, 4), 5, np.uint8)
    with pytest.raises(ValidationError):
        black_box(img, [[0, 0, 2, 2], [0, 0, 2**40, 2]])
    assert (img == 5).all()
