"""DBNet text detection: probability map → threshold → connected regions → unclipped boxes."""

from __future__ import annotations

import cv2
import numpy as np

from veilcv.errors import ValidationError


def decode_dbnet(
    prob: np.ndarray,
    *,
    bin_thresh: float = 0.3,
    box_thresh: float = 0.5,
    unclip_ratio: float = 1.6,
    min_side: float = 3.0,
    max_candidates: int = 1000,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Turn a DBNet probability map into text regions.

    Pixels above ``bin_thresh`` form 8-connected regions. Each region's minimum-area rotated
    rectangle (over the pixel squares, so a ``w``×``h`` block gives a ``w``×``h`` rectangle) is
    scored by the mean probability of its pixels, dropped below ``box_thresh`` or when its short
    side is under ``min_side``, and grown on every side by ``d = area * unclip_ratio / perimeter``
    (the DBNet unclip rule, because the model is trained on shrunk text kernels).

    Parameters
    ----------
    prob : ndarray, shape (1, 1, H, W) or (H, W)
        Per-pixel text probability.
    bin_thresh, box_thresh, unclip_ratio, min_side : float
    max_candidates : int
        At most this many regions, largest first.

    Returns
    -------
    boxes : ndarray of float32, shape (N, 4)
        Axis-aligned bounds of the unclipped rotated rectangles, in map pixels.
    scores : ndarray of float32, shape (N,)
    quads : ndarray of float32, shape (N, 4, 2)
        Corners of the unclipped rotated rectangles.
    """
    p = np.asarray(prob, dtype=np.float32)
    while p.ndim > 2 and p.shape[0] == 1:
        p = p[0]
    if p.ndim != 2:
        raise ValidationError(f"DBNet map: expected shape (1, 1, H, W) or (H, W), got {np.shape(prob)}")
    mask = (p > bin_thresh).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    order = np.argsort(-stats[1:, cv2.CC_STAT_AREA], kind="stable")[:max_candidates] + 1
    boxes, scores, quads = [], [], []
    for k in order:
        x, y, w, h = (int(v) for v in stats[k, :4])
        sub = labels[y : y + h, x : x + w] == k
        score = float(p[y : y + h, x : x + w][sub].mean())
        if score < box_thresh:
            continue
        ys, xs = np.nonzero(sub)
        # Corners of every pixel square, so the rectangle covers whole pixels.
        px = np.concatenate([xs, xs + 1, xs, xs + 1]) + x
        py = np.concatenate([ys, ys, ys + 1, ys + 1]) + y
        pts = np.stack([px, py], axis=1).astype(np.float32)
        hull = cv2.convexHull(pts)
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(hull)
        if min(rw, rh) < min_side:
            continue
        d = rw * rh * unclip_ratio / (2.0 * (rw + rh))
        corners = cv2.boxPoints(((cx, cy), (rw + 2 * d, rh + 2 * d), angle)).astype(np.float32)
        quads.append(corners)
        boxes.append([corners[:, 0].min(), corners[:, 1].min(), corners[:, 0].max(), corners[:, 1].max()])
        scores.append(score)
    if not boxes:
        return np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), np.zeros((0, 4, 2), np.float32)
    return np.asarray(boxes, np.float32), np.asarray(scores, np.float32), np.stack(quads)


def plate_like(
    quads: np.ndarray,
    *,
    min_aspect: float = 1.5,
    max_aspect: float = 6.5,
    min_height: float = 6.0,
    max_height: float | None = None,
    max_tilt: float = 20.0,
) -> np.ndarray:
    """Which text regions are shaped like a licence plate's text.

    Parameters
    ----------
    quads : ndarray, shape (N, 4, 2)
        Rotated rectangles from :func:`decode_dbnet` (image pixels).
    min_aspect, max_aspect : float
        Allowed ratio of the long side to the short side.
    min_height : float
        Smallest short side in pixels (smaller text is not a readable plate).
    max_height : float, optional
        Largest short side in pixels.
    max_tilt : float
        Largest angle in degrees between the long side and the horizontal: a plate's text runs
        along the car, so vertical lettering on signs and banners is not a plate.

    Returns
    -------
    ndarray of bool, shape (N,)
    """
    q = np.asarray(quads, dtype=np.float64)
    if q.ndim != 3 or q.shape[1:] != (4, 2):
        raise ValidationError(f"quads: expected shape (N, 4, 2), got {q.shape}")
    side_a = np.linalg.norm(q[:, 1] - q[:, 0], axis=1)
    side_b = np.linalg.norm(q[:, 2] - q[:, 1], axis=1)
    long_side, short_side = np.maximum(side_a, side_b), np.minimum(side_a, side_b)
    aspect = np.divide(long_side, short_side, out=np.full_like(long_side, np.inf), where=short_side > 0)
    ok = (aspect >= min_aspect) & (aspect <= max_aspect) & (short_side >= min_height)
    along = np.where((side_a >= side_b)[:, None], q[:, 1] - q[:, 0], q[:, 2] - q[:, 1])
    tilt = np.degrees(np.arctan2(np.abs(along[:, 1]), np.abs(along[:, 0])))
    ok &= tilt <= max_tilt
    if max_height is not None:
        ok &= short_side <= max_height
    return ok


def merge_text_lines(
    boxes: np.ndarray,
    scores: np.ndarray,
    quads: np.ndarray,
    *,
    max_gap: float = 0.6,
    min_overlap: float = 0.6,
    max_height_ratio: float = 1.5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Join text regions that are parts of one line (a plate's letters and digits are often split).

    Two axis boxes join when their heights differ by at most ``max_height_ratio``, they share at
    least ``min_overlap`` of the smaller height vertically, and the horizontal gap between them
    is at most ``max_gap`` times the larger height. Joining repeats until nothing changes. A joined
    region's score is the best of its parts and its quad is its axis-aligned box.

    Returns
    -------
    boxes, scores, quads : ndarray
        Same layout as :func:`decode_dbnet`'s output; untouched regions keep their rotated quads.
    """
    b = np.asarray(boxes, np.float32).reshape(-1, 4).copy()
    s = np.asarray(scores, np.float32).reshape(-1).copy()
    q = np.asarray(quads, np.float32).reshape(-1, 4, 2).copy()
    alive = np.ones(len(b), bool)
    changed = True
    while changed:
        changed = False
        for i in range(len(b)):
            if not alive[i]:
                continue
            for j in range(i + 1, len(b)):
                if not alive[j] or not _same_line(b[i], b[j], max_gap, min_overlap, max_height_ratio):
                    continue
                b[i] = [
                    min(b[i, 0], b[j, 0]),
                    min(b[i, 1], b[j, 1]),
                    max(b[i, 2], b[j, 2]),
                    max(b[i, 3], b[j, 3]),
                ]
                s[i] = max(s[i], s[j])
                x0, y0, x1, y1 = b[i]
                q[i] = [[x1, y1], [x0, y1], [x0, y0], [x1, y0]]
                alive[j] = False
                changed = True
    return b[alive], s[alive], q[alive]


def _same_line(a: np.ndarray, b: np.ndarray, max_gap: float, min_overlap: float, max_ratio: float) -> bool:
    ha, hb = a[3] - a[1], b[3] - b[1]
    if min(ha, hb) <= 0 or max(ha, hb) > max_ratio * min(ha, hb):
        return False
    v_overlap = min(a[3], b[3]) - max(a[1], b[1])
    gap = max(a[0], b[0]) - min(a[2], b[2])
    return v_overlap >= min_overlap * min(ha, hb) and gap <= max_gap * max(ha, hb)


def merge_nested(boxes: np.ndarray, *, max_inside: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """One region per plate: a box more than ``max_inside`` inside a larger kept one joins it.

    A plate's frame holds its main line and often smaller lines (a state or city band, a dealer's
    name). The larger box takes the union of the two, so no part of a nested line is left out.

    Returns
    -------
    boxes : ndarray of float32, shape (M, 4)
        The kept boxes, each grown to the union of the boxes that joined it.
    keep : ndarray of bool, shape (N,)
        Which input boxes were kept (their scores and quads go with them).
    """
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    keep = np.zeros(len(b), bool)
    out = b.copy()
    for i in np.argsort(-area, kind="stable"):
        k = np.flatnonzero(keep)
        ix = np.clip(np.minimum(b[k, 2], b[i, 2]) - np.maximum(b[k, 0], b[i, 0]), 0, None)
        iy = np.clip(np.minimum(b[k, 3], b[i, 3]) - np.maximum(b[k, 1], b[i, 1]), 0, None)
        host = np.flatnonzero(ix * iy > max_inside * area[i])
        if len(host):
            j = k[host[0]]
            out[j, :2] = np.minimum(out[j, :2], b[i, :2])
            out[j, 2:] = np.maximum(out[j, 2:], b[i, 2:])
        else:
            keep[i] = True
    return out[keep].astype(np.float32), keep


def grow_boxes(boxes: np.ndarray, gx: float, gy: float) -> np.ndarray:
    """Grow each box by ``gx`` of its width on the left and right and ``gy`` of its height above and below."""
    b = np.asarray(boxes, np.float32).reshape(-1, 4)
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    return np.stack([b[:, 0] - gx * w, b[:, 1] - gy * h, b[:, 2] + gx * w, b[:, 3] + gy * h], axis=1)
