"""Options, per-file records and helpers of the redaction pipeline (see :mod:`veilcv.core.pipeline`)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from veilcv.core.defaults import (
    _ALIASES,
    DEFAULT_MASK_SCALE,
    DEFAULT_THRESHOLDS,
    MODES,
    VERIFY_THRESHOLDS,
)
from veilcv.core.detection.types import Detections
from veilcv.errors import DetectionError, InputError, RedactionError, VeilcvError


class Detector(Protocol):
    """What the pipeline needs of a detector (``veilcv.core.detection`` provides the real ones)."""

    info: Mapping[str, Any]

    def detect(self, image_bgr: np.ndarray) -> Detections: ...


def normalize_what(what: Iterable[str]) -> tuple[str, ...]:
    """Map user spellings (``faces``, ``plates``, ``text``) to task names, keeping order.

    Parameters
    ----------
    what : iterable of str

    Returns
    -------
    tuple of str
        Tasks in ``TASKS``, without duplicates.

    Raises
    ------
    InputError
        An unknown class name.
    """
    out: list[str] = []
    for item in what:
        key = item.strip().lower()
        if not key:
            continue
        if key not in _ALIASES:
            raise InputError(f"--what: expected faces, plates or text, got {item!r}")
        if _ALIASES[key] not in out:
            out.append(_ALIASES[key])
    if not out:
        raise InputError("--what: expected at least one of faces, plates, text, got nothing")
    return tuple(out)


@dataclass(frozen=True)
class RedactOptions:
    """Settings of one redaction run (all of them go into the audit report).

    Attributes
    ----------
    what : tuple of str
        Classes to redact: ``face``, ``plate``, ``text`` (``faces``/``plates`` accepted).
    mode : {"box", "ellipse", "pixelate"}
        Solid box (default, irreversible), filled ellipse inscribed in the box, or mosaic
        (weaker than a box: a mosaic keeps coarse structure).
    mask_scale : float
        Each detected box grows by this factor about its centre before redaction (≥ 1), except
        plates found as text lines, which their detector grows to the plate's frame instead.
    thresholds : mapping of str to float
        Detection score threshold per task; missing tasks use ``DEFAULT_THRESHOLDS``.
    verify : bool
        Check the encoded output: every redacted region is redacted in the decoded bytes, and the
        face detector, run again over the whole frame, finds no face at ``verify_threshold`` or more
        outside the redacted footprint (``veilcv.core.defaults.VERIFY_THRESHOLDS``).
    strict : bool
        Residual detections on the output make the file fail.
    fix_rounds : int
        Rounds of "redact the residuals too, then verify again" before residuals are final
        (0: report them as found). Each round redacts every residual box (grown by
        ``mask_scale``) and re-verifies the newly encoded output; what is left after the last
        round is reported (and fails the file under ``strict``). Ingest uses this with
        ``strict`` so a crowd photo is made clean rather than refused.
    cells, noise, seed : int
        Pixelate parameters (see ``veilcv.core.kernels.pixelate``).
    quality : int
        JPEG/WebP/HEIC output quality.
    carry : int
        Video: a box found in frame t also covers frames t-carry..t+carry (interpolated).
    keep_audio : bool
        Video: remux the input's audio into the output (dropped by default).
    precision, profile : str or None
        Passed to ``load_detector``.
    small_faces : bool or None
        Also run the small-object passes (a finer scale or tiles) besides the whole frame, which
        the detector sees at most 1024 px on the long side, over the window where the whole-frame
        pass found small faces (none found: no extra pass). None (the default) takes the tuning
        profile's choice for faces, and is on without one: on the street set it raises faces
        covered from 88 % to 95.5 % (under 16 px: 70 % to 90 %) for 0.7 points more background
        changed (``veilcv.core.defaults``).
    allowed_metadata : tuple of str
        Metadata families allowed in outputs (default none).
    """

    what: tuple[str, ...] = ("face", "plate")
    mode: str = "box"
    mask_scale: float = DEFAULT_MASK_SCALE
    thresholds: Mapping[str, float] = field(default_factory=dict)
    verify: bool = True
    strict: bool = False
    fix_rounds: int = 0
    cells: int = 8
    noise: int = 0
    seed: int = 0
    quality: int = 95
    carry: int = 5
    keep_audio: bool = False
    precision: str = "auto"
    profile: str | None = None
    small_faces: bool | None = None
    allowed_metadata: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "what", normalize_what(self.what))
        if self.small_faces is None:  # the profile's tiling choice (`veil tune` measured it), else on
            chosen = None
            if self.profile is not None:
                from veilcv.core.detection.profile import tiling_choice

                chosen = tiling_choice(self.profile, "face")
            object.__setattr__(self, "small_faces", True if chosen is None else bool(chosen))
        if self.mode not in MODES:
            raise InputError(f"--mode: expected one of {', '.join(MODES)}, got {self.mode!r}")
        if not (1.0 <= self.mask_scale <= 4.0):
            raise InputError(f"--mask-scale: expected a factor in [1, 4], got {self.mask_scale}")
        thr = {t: DEFAULT_THRESHOLDS[t] for t in self.what}
        for key, value in dict(self.thresholds).items():
            task = _ALIASES.get(key.strip().lower())
            if task is None:
                raise InputError(f"--threshold: expected face, plate or text, got {key!r}")
            if not (0.0 < float(value) < 1.0):
                raise InputError(f"--threshold {key}: expected a value in (0, 1), got {value}")
            thr[task] = float(value)
        object.__setattr__(self, "thresholds", {t: thr[t] for t in thr if t in self.what})
        if not (0 <= self.fix_rounds <= 5):
            raise InputError(f"--fix-residuals: expected 0 to 5 rounds, got {self.fix_rounds}")
        if not self.verify and (self.strict or self.fix_rounds):
            # Both act on what verification finds: without it they would pass every file unchecked.
            flag = "--strict" if self.strict else "--fix-residuals"
            raise InputError(f"{flag}: acts on what verification finds, and it is off; use --verify")
        if self.carry < 0:
            raise InputError(f"--carry: expected frames ≥ 0, got {self.carry}")

    def verify_threshold(self, task: str) -> float | None:
        """The residual score threshold of ``task``, or None where it is verified at the pixel level only.

        The verification level (``VERIFY_THRESHOLDS``), or the redaction threshold where that is
        higher: a face the run chose not to redact is not a residual.
        """
        level = VERIFY_THRESHOLDS.get(task)
        return None if level is None else max(level, self.thresholds[task])


@dataclass
class FileResult:
    """Outcome of one input: everything the audit report says about it (no pixels, no metadata)."""

    input: str
    output: str | None = None
    kind: str = "image"
    ok: bool = False
    error: str | None = None
    input_sha256: str | None = None
    output_sha256: str | None = None
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    regions: dict[str, int] = field(default_factory=dict)
    residuals: list[dict[str, Any]] = field(default_factory=list)
    #: Images: what the detection pass found (class, box before mask scaling, score), so that
    #: `veil fairness --pred` can score a run against ground truth. Positions only, no pixels.
    detections: list[dict[str, Any]] = field(default_factory=list)
    #: Regions added by the fix rounds (residuals redacted and verified again), per class.
    fixed: dict[str, int] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)
    audio: str | None = None
    #: Suffix of the written format (BMP and HEIC inputs are written as ``.png``).
    output_suffix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict for the report."""
        return asdict(self)


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class _Locked:
    """Serialises calls into a detector that is not documented as thread-safe."""

    def __init__(self, det: Detector) -> None:
        self._det = det
        self._lock = threading.Lock()
        self.info = dict(getattr(det, "info", {}) or {})
        self.whole_frame_pass = bool(getattr(det, "whole_frame_pass", False))
        self.grown_to_frame = bool(getattr(det, "grown_to_frame", False))

    def detect(self, image_bgr: np.ndarray, **kwargs: Any) -> Detections:
        with self._lock:
            return self._det.detect(image_bgr, **kwargs)


def check_output_metadata(data: bytes, *, name: str, suffix: str = "", allowed: Iterable[str] = ()) -> None:
    """Refuse encoded output that carries any metadata family not in ``allowed``.

    Raises
    ------
    RedactionError
        The metadata checker found something or could not verify the bytes.
    """
    from veilcv.core import metadata

    try:
        report = metadata.check_bytes(
            data, allowed=metadata.parse_allowed(set(allowed)), name=name, suffix=suffix
        )
    except VeilcvError as exc:
        raise RedactionError(f"{name}: output metadata check failed: {exc}") from exc
    error = getattr(report, "error", None)
    if error:
        raise RedactionError(f"{name}: cannot verify output metadata: {error}")
    if not report.clean:
        fams = sorted({str(getattr(f, "family", f)) for f in report.findings})
        raise RedactionError(f"{name}: output still carries metadata ({', '.join(fams)}); nothing written")


def remove_stale_temps(dst: Path) -> None:
    """Remove temp files a killed earlier run left beside ``dst`` (``veilcv.atomic`` naming)."""
    try:
        for stale in dst.parent.glob(f".{_glob_escape(dst.name)}.*.tmp*"):
            stale.unlink(missing_ok=True)
    except OSError:
        pass


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def _detect(det: Detector, bgr: np.ndarray, *, whole_frame: bool) -> Any:
    # Detectors that plan small-object passes can skip them; injected ones (the Protocol) cannot.
    if whole_frame and getattr(det, "whole_frame_pass", False):
        return det.detect(bgr, whole_frame=True)  # type: ignore[call-arg]
    return det.detect(bgr)


def _thread_safe(det: Any) -> bool:
    return bool(getattr(det, "thread_safe", False))


def _validated(found: Any, task: str, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(found, Detections):
        raise DetectionError(f"{task} detector returned {type(found).__name__}, expected Detections")
    boxes = np.asarray(found.boxes, dtype=np.float32).reshape(-1, 4)
    scores = np.asarray(found.scores, dtype=np.float32).reshape(-1)
    if not (np.isfinite(boxes).all() and np.isfinite(scores).all()):
        raise DetectionError(f"{task} detector returned non-finite boxes or scores")
    return boxes, scores


def _lap(res: FileResult, key: str, t0: float) -> float:
    t1 = time.perf_counter()
    res.timings_ms[key] = round(res.timings_ms.get(key, 0.0) + (t1 - t0) * 1000.0, 3)
    return t1


def _jsonable(v: Any) -> Any:
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return str(v)
