"""Batched kernels for video: one ``(T, H, W[, C])`` array, ragged boxes per frame.

Frame ``t`` owns ``boxes[offsets[t]:offsets[t + 1]]`` (the layout of a concatenated list of per-frame box
arrays: ``offsets = np.concatenate([[0], np.cumsum(counts)])``). The output is identical to calling the
single-frame kernel on each frame with its own boxes; frames are processed on several threads when the
batch is large enough to pay for it, each frame by one thread, so boxes that overlap within a frame are
still applied in order.
"""

from __future__ import annotations

import numpy as np

from veilcv.core.kernels._validate import INT32_MAX, as_boxes, as_color, as_int, as_offsets, fail, pack_frames
from veilcv.core.kernels.fill import fill_packed
from veilcv.core.kernels.mosaic import pixelate_packed


def black_box_batch(
    frames: np.ndarray, boxes, offsets, *, color=0, shape: str = "rect", threads: int | None = None
):
    """Fill each frame's boxes with a solid colour, in place; the batched form of ``black_box``.

    Parameters
    ----------
    frames : ndarray of uint8, shape (T, H, W) or (T, H, W, 1|3|4)
        Changed in place and returned. C-contiguous arrays and views whose pixels are packed within each
        row are written directly; other views run on a contiguous copy that is copied back.
    boxes : array_like of int, shape (M, 4)
        All frames' boxes, concatenated in frame order; the rules of ``black_box`` apply per frame.
    offsets : array_like of int, shape (T + 1,)
        Non-decreasing, ``offsets[0] == 0`` and ``offsets[T] == M``.
    color, shape
        As for ``black_box``.
    threads : int, optional
        Upper bound on threads (default: all usable CPUs); small batches run on the calling thread.

    Returns
    -------
    ndarray
        ``frames`` itself.

    Raises
    ------
    veilcv.errors.ValidationError
        Bad frames, boxes, offsets, colour or shape.

    Examples
    --------
    >>> video = np.full((2, 3, 4), 9, np.uint8)
    >>> black_box_batch(video, [[0, 0, 2, 1], [3, 2, 9, 9]], [0, 1, 2])[:, :, :]
    array([[[0, 0, 9, 9],
            [9, 9, 9, 9],
            [9, 9, 9, 9]],
    <BLANKLINE>
           [[9, 9, 9, 9],
            [9, 9, 9, 9],
            [9, 9, 9, 0]]], dtype=uint8)
    """
    p = pack_frames(frames)
    b = as_boxes(boxes)
    off = as_offsets(offsets, p.count, b.shape[0])
    col = as_color(color, p.ch)
    if shape not in ("rect", "ellipse"):
        fail(f"shape: expected 'rect' or 'ellipse', got {shape!r}")
    fill_packed(p, b, off, col, shape == "ellipse", threads)
    p.finish()
    return frames


def pixelate_batch(
    frames: np.ndarray,
    boxes,
    offsets,
    *,
    cells: int = 8,
    noise: int = 0,
    seed: int = 0,
    threads: int | None = None,
):
    """Mosaic each frame's boxes, in place; the batched form of ``pixelate``.

    Parameters
    ----------
    frames : ndarray of uint8, shape (T, H, W) or (T, H, W, 1|3|4)
        Changed in place and returned (views as for ``black_box_batch``).
    boxes : array_like of int, shape (M, 4)
        All frames' boxes, concatenated in frame order.
    offsets : array_like of int, shape (T + 1,)
        Frame ``t`` owns ``boxes[offsets[t]:offsets[t + 1]]``.
    cells, noise, seed
        As for ``pixelate``. Every frame uses the same ``seed`` and numbers its boxes from 0, so a frame
        comes out exactly as ``pixelate(frame, its_boxes, seed=seed)`` would make it: a still region keeps
        the same noise in every frame, and averaging frames does not wash it out.
    threads : int, optional
        Upper bound on threads (default: all usable CPUs); small batches run on the calling thread.

    Returns
    -------
    ndarray
        ``frames`` itself.

    Raises
    ------
    veilcv.errors.ValidationError
        Bad frames, boxes, offsets, or ``cells``/``noise``/``seed`` out of range.
    """
    p = pack_frames(frames)
    b = as_boxes(boxes)
    off = as_offsets(offsets, p.count, b.shape[0])
    cells = as_int(cells, "cells", 1, INT32_MAX)
    noise = as_int(noise, "noise", 0, 255)
    seed = as_int(seed, "seed", 0, 2**64 - 1)
    pixelate_packed(p, b, off, cells, noise, seed, threads)
    p.finish()
    return frames
