"""SSD-style detection output ``[1, 1, N, 7]`` (Open Model Zoo face and plate detectors)."""

from __future__ import annotations

import numpy as np

from veilcv.errors import ValidationError


def decode_ssd(
    output: np.ndarray,
    *,
    input_hw: tuple[int, int],
    threshold: float = 0.5,
    labels: tuple[int, ...] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode rows ``[image_id, label, conf, x_min, y_min, x_max, y_max]`` (coordinates in 0..1).

    Parameters
    ----------
    output : ndarray, shape (1, 1, N, 7)
    input_hw : (int, int)
        Model input height and width; normalised coordinates are scaled to these pixels.
    threshold : float
        Minimum confidence.
    labels : tuple of int, optional
        Keep only these class ids (all when omitted).

    Returns
    -------
    boxes : ndarray of float32, shape (N, 4)
        Model-input pixels.
    scores : ndarray of float32, shape (N,)
    class_ids : ndarray of int64, shape (N,)

    Notes
    -----
    A row whose ``image_id`` is negative ends the list (the OMZ convention); rows after it are
    padding and ignored.
    """
    out = np.asarray(output, dtype=np.float32)
    if out.ndim != 4 or out.shape[:2] != (1, 1) or out.shape[3] != 7:
        raise ValidationError(f"SSD output: expected shape (1, 1, N, 7), got {out.shape}")
    rows = out[0, 0]
    end = np.flatnonzero(rows[:, 0] < 0)
    if end.size:
        rows = rows[: end[0]]
    keep = rows[:, 2] >= threshold
    if labels is not None:
        keep &= np.isin(rows[:, 1].astype(np.int64), np.asarray(labels, dtype=np.int64))
    rows = rows[keep]
    h, w = input_hw
    boxes = rows[:, 3:7] * np.array([w, h, w, h], dtype=np.float32)
    return boxes.astype(np.float32), rows[:, 2].astype(np.float32), rows[:, 1].astype(np.int64)
