"""Redaction coverage against ground truth: which annotated boxes were actually redacted.

A pixel counts as *redacted* when the redacted image differs from the original by more than
``tol`` on any channel, or when it is flat in the redacted image (a box or mosaic cell: its 5×5
neighbourhood spans at most 2 levels, which JPEG noise allows) while the original was textured
there (a 5×5 range above 8 levels). The second rule catches a black box
over pixels that were already nearly black, which a pure difference test would call unchanged. A
3×3 closing then fills one-pixel seams. A ground-truth box is *covered* when at least ``hit`` of its
pixels are redacted. Boxes are bucketed by their longest side
(:data:`veilcv.core.geometry.SIZE_BUCKETS`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from veilcv.atomic import write_bytes
from veilcv.core.annotations import ImageBoxes
from veilcv.core.defaults import IMAGE_SUFFIXES
from veilcv.core.geometry import SIZE_BUCKETS, size_buckets
from veilcv.core.media import decode_image, encode_image
from veilcv.errors import InputError, VeilcvError


def redacted_mask(original: np.ndarray, redacted: np.ndarray, *, tol: int = 12) -> np.ndarray:
    """Pixels changed by redaction (see the module docstring for the rule).

    Parameters
    ----------
    original, redacted : ndarray of uint8, shape (H, W, C)
        Same shape; decoded with the same orientation.
    tol : int
        Largest per-channel difference still counted as unchanged (re-encoding noise).

    Returns
    -------
    ndarray of bool, shape (H, W)
    """
    if original.shape[:2] != redacted.shape[:2]:
        raise InputError(
            f"expected images of the same size, got {original.shape[:2]} and {redacted.shape[:2]}"
        )
    a, b = original[:, :, :3], redacted[:, :, :3]
    diff = cv2.absdiff(a, b).max(axis=2) > tol
    k5 = np.ones((5, 5), np.uint8)
    flat_b = cv2.morphologyEx(b, cv2.MORPH_GRADIENT, k5).max(axis=2) <= 2
    flat_a = cv2.morphologyEx(a, cv2.MORPH_GRADIENT, k5).max(axis=2) <= 8
    mask = (diff | (flat_b & ~flat_a)).astype(np.uint8)
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)).astype(bool)


def box_fractions(mask: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Fraction of each box's pixels set in ``mask`` (boxes rounded outward and clipped)."""
    h, w = mask.shape
    integral = np.pad(mask.astype(np.int64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    out = np.zeros(len(boxes))
    for i, (x0, y0, x1, y1) in enumerate(np.asarray(boxes, dtype=np.float64).reshape(-1, 4)):
        a0, b0 = int(np.clip(math.floor(x0), 0, w)), int(np.clip(math.floor(y0), 0, h))
        a1, b1 = int(np.clip(math.ceil(x1), 0, w)), int(np.clip(math.ceil(y1), 0, h))
        area = (a1 - a0) * (b1 - b0)
        if area > 0:
            s = integral[b1, a1] - integral[b0, a1] - integral[b1, a0] + integral[b0, a0]
            out[i] = s / area
    return out


@dataclass
class BucketStats:
    """Coverage of one size bucket."""

    boxes: int = 0
    covered: int = 0
    fraction_sum: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures (None where the bucket is empty)."""
        return {
            "boxes": self.boxes,
            "covered": self.covered,
            "covered_fraction": round(self.covered / self.boxes, 4) if self.boxes else None,
            "mean_redacted_fraction": round(self.fraction_sum / self.boxes, 4) if self.boxes else None,
        }


@dataclass
class CoverageReport:
    """Result of :func:`measure_coverage`."""

    hit: float
    tol: int
    buckets: dict[str, BucketStats] = field(
        default_factory=lambda: {b[0]: BucketStats() for b in SIZE_BUCKETS}
    )
    images: int = 0
    background_changed: int = 0
    background_pixels: int = 0
    errors: list[str] = field(default_factory=list)
    misses: int = 0

    @property
    def total(self) -> BucketStats:
        """All buckets together."""
        t = BucketStats()
        for b in self.buckets.values():
            t.boxes += b.boxes
            t.covered += b.covered
            t.fraction_sum += b.fraction_sum
        return t

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready report."""
        bg = self.background_changed / self.background_pixels if self.background_pixels else None
        return {
            "hit_threshold": self.hit,
            "tolerance": self.tol,
            "images": self.images,
            "buckets": {k: v.as_dict() for k, v in self.buckets.items()},
            "all": self.total.as_dict(),
            "background_changed_fraction": None if bg is None else round(bg, 5),
            "errors": self.errors,
        }


def find_image(folder: Path, rel: str) -> Path | None:
    """``folder/rel``, or a file with the same stem and another image suffix (a converted output)."""
    direct = folder / rel
    if direct.is_file():
        return direct
    stem = direct.with_suffix("")
    for suffix in sorted(IMAGE_SUFFIXES):
        for cand in (stem.with_suffix(suffix), stem.with_suffix(suffix.upper())):
            if cand.is_file():
                return cand
    return None


def measure_coverage(
    gt: Iterable[ImageBoxes],
    images_dir: str | Path,
    redacted_dir: str | Path,
    *,
    hit: float = 0.8,
    tol: int = 12,
    overlays_dir: str | Path | None = None,
) -> CoverageReport:
    """Measure how much of each ground-truth box was redacted.

    Parameters
    ----------
    gt : iterable of ImageBoxes
        Ground truth (paths relative to ``images_dir``).
    images_dir, redacted_dir : path-like
        Originals and redacted outputs (same relative paths; the suffix may differ).
    hit : float
        A box is covered when at least this fraction of its pixels is redacted.
    tol : int
        See :func:`redacted_mask`.
    overlays_dir : path-like, optional
        Where to write a PNG per image with misses: the ORIGINAL image (it shows the personal data
        that was missed) with missed boxes in red, covered boxes in green, redacted pixels tinted.

    Returns
    -------
    CoverageReport
        Images that are missing or unreadable are listed in ``errors`` and left out of the figures.
    """
    images_dir, redacted_dir = Path(images_dir), Path(redacted_dir)
    rep = CoverageReport(hit=hit, tol=tol)
    for item in gt:
        src = find_image(images_dir, item.file)
        dst = find_image(redacted_dir, item.file)
        if src is None or dst is None:
            which, folder = ("original", images_dir) if src is None else ("redacted output", redacted_dir)
            rep.errors.append(f"{folder / item.file}: {which} not found")
            continue
        try:
            a = decode_image(src.read_bytes(), name=str(src))
            b = decode_image(dst.read_bytes(), name=str(dst))
            if a.shape[:2] != b.shape[:2]:
                raise InputError(
                    f"{dst}: expected {a.shape[1]}x{a.shape[0]} like the original, "
                    f"got {b.shape[1]}x{b.shape[0]}"
                )
        except (VeilcvError, OSError) as exc:
            rep.errors.append(str(exc))
            continue
        mask = redacted_mask(a, b, tol=tol)
        fr = box_fractions(mask, item.boxes)
        rep.images += 1
        inside = np.zeros(mask.shape, bool)
        for box, f, bucket in zip(item.boxes, fr, size_buckets(item.boxes), strict=True):
            st = rep.buckets[bucket]
            st.boxes += 1
            st.fraction_sum += float(f)
            st.covered += int(f >= hit)
            x0, y0 = max(0, math.floor(box[0])), max(0, math.floor(box[1]))
            inside[y0 : math.ceil(box[3]), x0 : math.ceil(box[2])] = True
        rep.background_changed += int((mask & ~inside).sum())
        rep.background_pixels += int((~inside).sum())
        missed = fr < hit
        rep.misses += int(missed.sum())
        if overlays_dir is not None and missed.any():
            overlay = draw_overlay(a, mask, item.boxes, missed)
            write_bytes(
                Path(overlays_dir) / Path(item.file).with_suffix(".png"), encode_image(overlay, ".png")
            )
    return rep


def draw_overlay(image: np.ndarray, mask: np.ndarray, boxes: np.ndarray, missed: np.ndarray) -> np.ndarray:
    """The original with redacted pixels tinted blue, missed boxes red and covered boxes green."""
    out = np.ascontiguousarray(image[:, :, :3]).copy()
    tint = out[mask].astype(np.float32) * 0.5 + np.array([255, 0, 0], np.float32) * 0.5
    out[mask] = tint.astype(np.uint8)
    for box, miss in zip(boxes, missed, strict=True):
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        cv2.rectangle(
            out, (x0, y0), (max(x0, x1 - 1), max(y0, y1 - 1)), (0, 0, 255) if miss else (0, 200, 0), 1
        )
    return out
