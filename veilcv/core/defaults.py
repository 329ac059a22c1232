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
RESIDUAL_FOOTPRINT_GROW = 0.25
#: Verification: the face detector runs again on the decoded output, and a face-like detection at or
#: above this score outside the redacted footprint is a residual (``--strict`` fails the file). The
#: redaction threshold is a recall setting (anything faintly face-like is covered); the verifier asks
#: whether a face is plainly still visible. Measured on the shared sets (9 faces_dlib_voc photos, a
#: third of faces_mask_street, 40 plate photos, the astronaut; ``benchmarks/bench_verify.py``):
#: correctly redacted outputs score at most 0.41 (f32) / 0.34 (INT8) outside the footprint, while an
#: unredacted face scores >= 0.5 in 93-96 % of faces of 32 px and up. A user threshold above it wins.
#: Plates and text are verified at the pixel level only (every redacted region is redacted in the
#: written bytes): a text detector's second look at an output finds other text, not leaks.
VERIFY_THRESHOLDS: Mapping[str, float] = MappingProxyType({"face": 0.5})
#: Default score threshold per task (benchmarks/bench_redact.py, bench_redact_defaults.py; INT8 face
#: model, whole frame at 1024 px plus the gated small-face passes, scale 1.5). Chosen from the curve
#: of faces covered against background changed on the 100 most crowded faces_mask_street photos
#: plus every 8th other one, at native size (detector level, covered = 80 % of a face's pixels):
#:   whole frame only, 0.12 (the previous default): 0.858 covered (<16 px 0.66), 16.4 % background
#:   small-face passes, 0.12: 0.948 (<16 px 0.89), 17.3 %
#:   small-face passes, 0.15: 0.924 (<16 px 0.84), 15.7 %   <- default
#:   small-face passes, 0.17: 0.909 (<16 px 0.80), 14.9 %
#:   small-face passes, 0.20: 0.892 (<16 px 0.77), 14.2 %
#: 0.15 covers more faces than the old default with less background changed, and stays above 0.9.
#: Plate text-line scores saturate: 0.2-0.6 found the same 40/40 plates with the same area, so 0.3
#: costs nothing.
DEFAULT_THRESHOLDS: Mapping[str, float] = MappingProxyType({"face": 0.15, "plate": 0.3, "text": 0.5})
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
