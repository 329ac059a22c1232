"""Pass planning for small objects: the whole frame plus a finer scale (one window or tiles).

A pass is a source window and a scale; the detector runs every pass and merges the boxes by NMS.
The plan is chosen from the image size alone, under a cost bound (model-input pixels per image).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from veilcv.errors import ValidationError


@dataclass(frozen=True)
class Pass:
    """One detector run: source window ``(x0, y0, x1, y1)`` resized by ``scale``."""

    x0: int
    y0: int
    x1: int
    y1: int
    scale: float

    @property
    def input_hw(self) -> tuple[int, int]:
        """Model input size: the scaled window padded up to multiples of 32."""
        return (
            _pad32(round((self.y1 - self.y0) * self.scale)),
            _pad32(round((self.x1 - self.x0) * self.scale)),
        )

    @property
    def cost(self) -> int:
        """Model-input pixels of this pass."""
        h, w = self.input_hw
        return h * w


@dataclass(frozen=True)
class TilingConfig:
    """Parameters of the small-object plan.

    Attributes
    ----------
    enabled : bool
        Plan fine passes at all (``False``: whole frame only).
    max_side : int
        Longest side of the whole-frame pass (images are never upscaled by it).
    fine_scale : float
        Target scale of the fine pass relative to the source pixels (2.0 makes an 8 px face 16 px).
    tile : int
        Side of a fine-pass tile in model pixels.
    overlap : int
        Overlap of neighbouring tiles in model pixels; an object smaller than this is whole in at
        least one tile.
    window_pixels : int
        A fine pass whose scaled frame is at most this many pixels runs as one window, not tiles.
    max_pixels : int
        Cost bound: model-input pixels per image over all passes. The fine scale is lowered to fit,
        and dropped when it would add little over the whole-frame pass.
    gated : bool
        Run the fine passes only where the whole-frame pass calls for them: over the window that
        holds its detections smaller than ``gate_side`` model pixels (small faces come in crowds;
        where one is found, others too small to be found at that scale sit around it). An image
        whose whole-frame pass finds no small face gets no fine pass.
    gate_side : int
        Long side, in model pixels of the whole-frame pass, under which a detection calls for the
        fine passes around it.
    """

    enabled: bool = True
    max_side: int = 1280
    fine_scale: float = 2.0
    tile: int = 640
    overlap: int = 128
    window_pixels: int = 2_097_152
    max_pixels: int = 4_000_000
    gated: bool = True
    gate_side: int = 32

    def __post_init__(self) -> None:
        if self.tile % 32 or self.tile < 64:
            raise ValidationError(f"tile: expected a multiple of 32 of at least 64, got {self.tile}")
        if not 0 <= self.overlap < self.tile // 2:
            raise ValidationError(f"overlap: expected 0 <= overlap < tile/2, got {self.overlap}")
        if self.max_side < 32 or self.fine_scale <= 0 or self.max_pixels <= 0:
            raise ValidationError(
                f"expected max_side >= 32, fine_scale > 0, max_pixels > 0, "
                f"got {self.max_side}, {self.fine_scale}, {self.max_pixels}"
            )


def _pad32(n: int) -> int:
    return max(32, -(-n // 32) * 32)


def _axis_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Tile starts covering ``[0, length)`` with at least ``overlap`` shared between neighbours."""
    if length <= tile:
        return [0]
    n = math.ceil((length - overlap) / (tile - overlap))
    step = (length - tile) / (n - 1)
    return [round(i * step) for i in range(n)]


def _fine_passes(h: int, w: int, scale: float, cfg: TilingConfig) -> list[Pass]:
    sh, sw = h * scale, w * scale
    # A scaled frame not much bigger than one tile runs as one window (no seams, less overhead).
    if sh * sw <= max(cfg.window_pixels, cfg.tile * cfg.tile):
        return [Pass(0, 0, w, h, scale)]
    src_tile = cfg.tile / scale
    passes = []
    for ty in _axis_starts(round(sh), cfg.tile, cfg.overlap):
        for tx in _axis_starts(round(sw), cfg.tile, cfg.overlap):
            x0, y0 = int(tx / scale), int(ty / scale)
            x1 = min(w, int(math.ceil(x0 + src_tile)))
            y1 = min(h, int(math.ceil(y0 + src_tile)))
            passes.append(Pass(x0, y0, x1, y1, scale))
    return passes


def plan_passes(h: int, w: int, cfg: TilingConfig) -> list[Pass]:
    """Plan the passes for an ``h`` × ``w`` image.

    Parameters
    ----------
    h, w : int
        Image size in pixels.
    cfg : TilingConfig

    Returns
    -------
    list of Pass
        The whole frame at ``min(1, max_side / long side)`` first, then, when enabled and worth it
        under the cost bound, the fine passes (a single upscaled window or overlapping tiles).
    """
    if h < 1 or w < 1:
        raise ValidationError(f"image size: expected at least 1x1, got {w}x{h}")
    base = Pass(0, 0, w, h, min(1.0, cfg.max_side / max(h, w)))
    if not cfg.enabled:
        return [base]
    budget = cfg.max_pixels - base.cost
    scale = cfg.fine_scale
    while scale > base.scale * 1.25:
        fine = _fine_passes(h, w, scale, cfg)
        if sum(p.cost for p in fine) <= budget:
            return [base, *fine]
        scale *= 0.9
    return [base]


def gated_passes(h: int, w: int, base: Pass, boxes: object, cfg: TilingConfig) -> list[Pass]:
    """The fine passes a gated plan runs after ``base`` found ``boxes`` (N x 4, image pixels).

    The window is the bounding box of the detections under ``cfg.gate_side`` model pixels, grown by
    twice the largest of them on every side (neighbours of a small face are small too) and clipped
    to the image; it is planned as an image of its own under the same cost bound, and its passes
    are moved to image coordinates. No small detection: no pass.
    """
    import numpy as np

    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    side = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) * base.scale
    small = b[side < cfg.gate_side]
    if not len(small):
        return []
    grow = 2.0 * float(np.max(np.maximum(small[:, 2] - small[:, 0], small[:, 3] - small[:, 1])))
    x0 = max(0, int(np.floor(small[:, 0].min() - grow)))
    y0 = max(0, int(np.floor(small[:, 1].min() - grow)))
    x1 = min(w, int(np.ceil(small[:, 2].max() + grow)))
    y1 = min(h, int(np.ceil(small[:, 3].max() + grow)))
    if x1 - x0 < 1 or y1 - y0 < 1:
        return []
    budget = cfg.max_pixels - base.cost
    scale = cfg.fine_scale
    while scale > base.scale * 1.25:
        fine = _fine_passes(y1 - y0, x1 - x0, scale, cfg)
        if sum(p.cost for p in fine) <= budget:
            return [Pass(p.x0 + x0, p.y0 + y0, p.x1 + x0, p.y1 + y0, p.scale) for p in fine]
        scale *= 0.9
    return []
