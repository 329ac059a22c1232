"""The one result type every detector returns."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Detections:
    """Detected regions of one image.

    Attributes
    ----------
    boxes : ndarray of float32, shape (N, 4)
        ``(x0, y0, x1, y1)`` in pixels of the image passed to the detector (half-open, not yet
        clipped or scaled by a mask factor).
    scores : ndarray of float32, shape (N,)
        Confidence in ``[0, 1]``.
    labels : tuple of str, length N
        The task of each region: ``"face"``, ``"plate"`` or ``"text"``.
    landmarks : ndarray of float32, shape (N, K, 2), optional
        Keypoints where the model gives them (CenterFace: 5 per face).
    """

    boxes: np.ndarray
    scores: np.ndarray
    labels: tuple[str, ...]
    landmarks: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        n = len(self.labels)
        if self.boxes.shape != (n, 4) or self.scores.shape != (n,):
            raise ValueError(
                f"expected boxes (N, 4) and scores (N,) with N={n}, "
                f"got {self.boxes.shape} and {self.scores.shape}"
            )

    def __len__(self) -> int:
        return len(self.labels)

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), ())

    def select(self, mask: np.ndarray) -> Detections:
        """The subset where boolean ``mask`` is true."""
        idx = np.flatnonzero(mask)
        return Detections(
            self.boxes[idx],
            self.scores[idx],
            tuple(self.labels[i] for i in idx),
            None if self.landmarks is None else self.landmarks[idx],
        )

    @classmethod
    def concat(cls, parts: list[Detections]) -> Detections:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        lms = None
        if all(p.landmarks is not None for p in parts) and len({p.landmarks.shape[1:] for p in parts}) == 1:
            lms = np.concatenate([p.landmarks for p in parts])
        return cls(
            np.concatenate([p.boxes for p in parts]).astype(np.float32),
            np.concatenate([p.scores for p in parts]).astype(np.float32),
            tuple(label for p in parts for label in p.labels),
            lms,
        )
