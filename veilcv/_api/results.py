"""What ``veilcv.Redactor.redact`` takes and returns: array checks and the result records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from veilcv.errors import ValidationError


@dataclass(frozen=True)
class Detection:
    """One detection: what a detector saw, before any mask margin.

    Attributes
    ----------
    label : str
        ``"face"``, ``"plate"`` or ``"text"``.
    box : tuple of float
        ``(x0, y0, x1, y1)`` in pixels of the image, half-open, not clipped.
    score : float
        The detector's confidence in ``[0, 1]``.
    """

    label: str
    box: tuple[float, float, float, float]
    score: float


@dataclass(frozen=True)
class Region:
    """One region redacted in the output.

    Attributes
    ----------
    label : str
        ``"face"``, ``"plate"`` or ``"text"``.
    box : tuple of int
        ``(x0, y0, x1, y1)`` in pixels, half-open, clipped to the image: the detection grown by
        ``mask_scale`` (faces) and rounded outward, exactly the pixels that were redacted.
    fixed : bool
        True when a fix round added it (a residual redacted too, ``fix_residuals``).
    """

    label: str
    box: tuple[int, int, int, int]
    fixed: bool = False


@dataclass(frozen=True, eq=False)
class RedactionResult:
    """The outcome of :meth:`Redactor.redact`: only ever returned for a verified redaction.

    Attributes
    ----------
    pixels : ndarray of uint8, shape (H, W, C)
        The redacted image, a new array in the channel order of the input (the input is not
        modified).
    regions : tuple of Region
        Every region redacted, in the order of ``what``.
    detections : tuple of Detection
        What the detection pass found at the redaction thresholds.
    residuals : tuple of Detection
        Faces the verification pass still found on ``pixels`` outside the redacted regions (empty
        when ``verify=False``). With ``strict=True`` there are none: a residual raises instead.
    timings_ms : mapping of str to float
        Milliseconds per step: ``detect``, ``redact`` and, when verifying, ``verify``.
    """

    pixels: np.ndarray
    regions: tuple[Region, ...]
    detections: tuple[Detection, ...]
    residuals: tuple[Detection, ...]
    timings_ms: Mapping[str, float]


def checked_image(image: Any, channels: str) -> np.ndarray:
    """A private, C-contiguous BGR(A) copy of ``image``, or ValidationError."""
    if channels not in ("bgr", "rgb"):
        raise ValidationError(f"channels: expected 'bgr' or 'rgb', got {channels!r}")
    if not isinstance(image, np.ndarray):
        raise ValidationError(
            f"image: expected a numpy array of shape (H, W, 3), got {type(image).__name__}; "
            "use numpy.asarray(picture)"
        )
    if image.dtype != np.uint8:
        raise ValidationError(
            f"image: expected dtype uint8, got {image.dtype}; scale to 0-255 and use .astype(numpy.uint8)"
        )
    if image.ndim != 3 or image.shape[2] not in (3, 4) or 0 in image.shape:
        hint = "; use cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)" if image.ndim == 2 else ""
        raise ValidationError(f"image: expected shape (H, W, 3) or (H, W, 4), got {image.shape}{hint}")
    return to_channels(image, channels)  # also the copy: the caller's array is never written


def to_channels(image: np.ndarray, channels: str) -> np.ndarray:
    """A C-contiguous copy with the first and third channels swapped for ``rgb`` (an involution)."""
    if channels == "rgb":
        order = [2, 1, 0, 3][: image.shape[2]]
        return np.ascontiguousarray(image[:, :, order])
    return np.array(image, dtype=np.uint8, order="C", copy=True)


def box_ints(box: np.ndarray) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = (int(v) for v in box)
    return (x0, y0, x1, y1)


for _cls in (Detection, Region, RedactionResult):
    _cls.__module__ = "veilcv"  # shown, documented and pickled as the public name
