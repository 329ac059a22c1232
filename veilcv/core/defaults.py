"""Redaction settings and media kinds that the CLI needs before any heavy library loads.

Nothing here imports numpy, OpenCV, Pillow or OpenVINO: `veil --help` and argument parsing stay
fast; the pipeline and media modules re-export these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

TASKS = ("face", "plate", "text")
MODES = ("box", "ellipse", "pixelate")
_ALIASES = {"faces": "face", "face": "face", "plates": "plate", "plate": "plate", "text": "text"}
#: A residual detection on the output counts only if less than this fraction of it lies inside the
#: footprint of the redacted regions (each region grown by ``RESIDUAL_FOOTPRINT_GROW`` of its size on
#: every side): a detector that fires on the edge of a black box, or on a chin just under it, is
#: looking at the box it was given, not at a leak.
RESIDUAL_MAX_COVERED = 0.5
RESIDUAL_FOOTPRINT_GROW = 0.4
#: Inside that footprint (not on the region itself) a detection is a residual only at this score or
#: more: a face plainly standing beside a redacted one is reported, the hair or chin the box left
#: (at most 0.54 on the shared face sets in box mode, 0.66 beside mosaics) is not.
RESIDUAL_NEAR_LEVEL = 0.75
#: Verification: the face detector runs again on the decoded output, and a face-like detection at or
#: above this score outside the redacted footprint is a residual (``--strict`` fails the file). The
#: redaction threshold is a recall setting (anything faintly face-like is covered); the verifier asks
#: whether a face is plainly still visible. Measured on the shared sets (``benchmarks/bench_verify.py``,
#: ``bench_precision.py``): on all 853 faces_mask_street and 9 faces_dlib_voc photos redacted with the
#: defaults (INT8), detections outside the footprint score at most 0.36 with the footprint grown by
#: 40 % (0.54 with 25 %: hair beside a black box); f32, bf16 and INT8 agree on 174 photos (none over
#: 0.46). An unredacted face scores >= 0.5 in 93-96 % of faces of 32 px and up. A user threshold
#: above the level wins.
#: Plates and text are verified at the pixel level only (every redacted region is redacted in the
#: written bytes): a text detector's second look at an output finds other text, not leaks.
VERIFY_THRESHOLDS: Mapping[str, float] = MappingProxyType({"face": 0.5})
#: Default score threshold per task. Chosen from the curve of faces covered (80 % of a face's pixels
#: redacted) against background changed, ``benchmarks/bench_redact_defaults.py``: INT8 face model,
#: mask scale 1.5, on ``street`` (the 100 most crowded faces_mask_street photos plus every 8th other
#: one, native size) and ``street-1080p`` (the 24 most crowded letterboxed to 1920x1080):
#:
#:   plan                               street covered / bg    1080p covered / bg
#:   whole frame only, 0.12 (old)         88.0 % / 16.6 %        91.7 % / 17.7 %
#:   gated small-face passes, 0.12        95.5 % / 17.3 %        93.3 % / 18.4 %   <- default
#:   gated, 0.13                          94.5 % / 16.7 %        91.3 % / 17.8 %
#:   gated, 0.15                          93.3 % / 15.9 %        90.0 % / 16.9 %
#:   gated, 0.20                          90.2 % / 14.5 %            -
#:   (mask scale 1.3 instead: gated 0.12 street 93.2 % / 12.1 %, but 1080p 86.5 %: too tight)
#:
#: A missed face is a leak: 0.12 with the gated passes is the only point that covers more faces than
#: the old default on both sets (<16 px faces: 70 % -> 90 %), for under a point more background.
#: Plate text-line scores saturate: 0.2-0.6 found the same 40/40 plates with the same area, so 0.3
#: costs nothing.
DEFAULT_THRESHOLDS: Mapping[str, float] = MappingProxyType({"face": 0.12, "plate": 0.3, "text": 0.5})
#: Default growth of each detected box about its centre (CenterFace boxes are tight on the face;
#: the margin covers hair, ears and boxes that are a few pixels off).
DEFAULT_MASK_SCALE = 1.5
#: Containers whose metadata the checker cannot verify are written as PNG (lossless), so that
#: every output is verified metadata-free.
CONVERTED_SUFFIXES = {".bmp": ".png", ".heic": ".png", ".heif": ".png"}


def output_suffix(suffix: str) -> str:
    """The suffix an input with ``suffix`` is written as (BMP and HEIC become PNG, others keep theirs).

    Parameters
    ----------
    suffix : str
        Input suffix such as ``".jpg"``.

    Returns
    -------
    str
        Lower-case output suffix; JPEG keeps its spelling (``.jpeg`` stays ``.jpeg``).
    """
    low = suffix.lower()
    return CONVERTED_SUFFIXES.get(low, suffix)


IMAGE_SUFFIXES: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".heic", ".heif"}
)
VIDEO_SUFFIXES: frozenset[str] = frozenset({".mp4", ".mov", ".avi", ".mkv", ".m4v"})


def media_kind(path: str | Path) -> str | None:
    """Classify a path by its suffix.

    Parameters
    ----------
    path : str or Path
        File name; only the suffix is looked at.

    Returns
    -------
    {"image", "video"} or None
        None when veilcv does not handle the suffix.
    """
    suffix = Path(path).suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "image"
    if suffix in VIDEO_SUFFIXES:
        return "video"
    return None
