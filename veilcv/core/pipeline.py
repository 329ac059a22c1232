"""The fail-closed redaction pipeline: decode → detect → redact → verify → encode → metadata check.

Any failure in any step raises a :class:`~veilcv.errors.VeilcvError` subclass and nothing is
written for that input; :meth:`Redactor.redact_file` only renames a complete, verified, metadata-free
output into place (``veilcv.atomic``). Options and records live in :mod:`veilcv.core.redact_types`
and are re-exported here.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import numpy as np

from veilcv import __version__
from veilcv.atomic import atomic_path
from veilcv.core.defaults import (
    _ALIASES,
    DEFAULT_MASK_SCALE,
    DEFAULT_THRESHOLDS,
    MODES,
    RESIDUAL_FOOTPRINT_GROW,
    RESIDUAL_MAX_COVERED,
    RESIDUAL_NEAR_LEVEL,
    TASKS,
    output_suffix,
)
from veilcv.core.detection.profile import describe as describe_profile
from veilcv.core.media import decode_image, encode_image, media_kind
from veilcv.core.redact_types import (
    Detector,
    FileResult,
    RedactOptions,
    _detect,
    _jsonable,
    _lap,
    _Locked,
    _thread_safe,
    _validated,
    check_output_metadata,
    normalize_what,
    remove_stale_temps,
    sha256_bytes,
    sha256_file,
)
from veilcv.errors import DetectionError, InputError, ModelError, RedactionError, ResidualsError, VeilcvError

#: Largest mean absolute difference (levels) between a redacted region as the kernels wrote it and as
#: the encoded output decodes: JPEG at quality 50 moves a black box by under 2 levels on average, a
#: face left in place differs by tens.
WRITTEN_REGION_TOLERANCE = 8.0


class Redactor:
    """Redacts images and videos with the detectors, kernels and metadata checker.

    Parameters
    ----------
    options : RedactOptions
    detectors : mapping of str to Detector, optional
        Detectors to use instead of loading them (fault-injection tests, custom models). Tasks
        not given are loaded lazily with ``veilcv.core.detection.load_detector``.
    """

    def __init__(self, options: RedactOptions | None = None, detectors: Mapping[str, Detector] | None = None):
        self.options = options or RedactOptions()
        self._detectors: dict[str, Any] = {}
        for task, det in (detectors or {}).items():
            self._detectors[_ALIASES.get(task, task)] = det if _thread_safe(det) else _Locked(det)
        self._load_lock = threading.Lock()
        self._streams: int | None = None  # CPU streams of loaded models (``load(jobs)``)
        #: Called as ``on_frame(src, done, total)`` while a video is processed (progress bars).
        self.on_frame: Callable[[Path, int, int], None] | None = None

    # -- detectors -------------------------------------------------------------------------
    def detector(self, task: str) -> Detector:
        """The detector of ``task`` (raises ``ModelError`` when it cannot load).

        Injected detectors are shared, serialised by a lock unless they say they are thread-safe.
        Loaded ones are thread-safe and shared too: one compiled model whose CPU streams (one per
        job, up to the core count) run the workers' inferences side by side, each worker with its
        own infer request.
        """
        det = self._detectors.get(task)
        if det is not None:
            return det
        with self._load_lock:  # pulling or compiling a model must happen once, not once per thread
            if task not in self._detectors:
                from veilcv.core.detection import load_detector

                # One detector per task at the redaction threshold; verification filters its
                # (higher) residual threshold from the same model's detections.
                o = self.options
                kwargs: dict[str, Any] = {
                    "threshold": o.thresholds[task],
                    "profile": o.profile,
                    "small_objects": o.small_faces,
                    "fallback_streams": self._streams or 1,
                }
                if o.precision != "auto":
                    kwargs["precision"] = o.precision
                self._detectors[task] = load_detector(task, **kwargs)
            return self._detectors[task]

    def load(self, jobs: int = 1) -> None:
        """Load every detector now, so that a missing model fails once, before any file.

        ``jobs`` is the number of files that will be redacted at once: the compiled models get
        that many CPU streams (at most one per core) unless a tuning profile says otherwise.

        The redaction kernels are loaded from Numba's cache in a background thread meanwhile, so
        the first file does not pay for it.
        """
        self._streams = max(1, min(int(jobs), os.cpu_count() or 1))
        warm = threading.Thread(
            target=_warm_kernels, args=(self.options.mode,), name="veil-warm-kernels", daemon=True
        )
        warm.start()
        for task in self.options.what:
            self.detector(task)

    def report_header(self) -> dict[str, Any]:
        """Tool version, models with sha256, thresholds and mode: the top of the audit report."""
        o = self.options
        models = []
        for task in o.what:
            info = dict(getattr(self.detector(task), "info", {}) or {})
            # The thresholds that matter are the report's "thresholds" and "verify_thresholds".
            info.pop("threshold", None)
            models.append({"task": task, **{k: _jsonable(v) for k, v in info.items()}})
        return {
            "tool": {"name": "veilcv", "version": __version__},
            "mode": o.mode,
            "mode_note": "pixelate keeps coarse structure and is weaker than a box"
            if o.mode == "pixelate"
            else None,
            "what": list(o.what),
            "mask_scale": o.mask_scale,
            "small_faces": o.small_faces,
            "profile": describe_profile(o.profile) if o.profile else None,
            "thresholds": dict(o.thresholds),
            "verify": o.verify,
            "verify_thresholds": {t: o.verify_threshold(t) for t in o.what} if o.verify else None,
            "strict": o.strict,
            "fix_rounds": o.fix_rounds,
            "video": {"carry_frames": o.carry, "audio": "kept" if o.keep_audio else "dropped"},
            "models": models,
        }

    # -- images ----------------------------------------------------------------------------
    def detect_boxes(self, image: np.ndarray, *, verify: bool = False) -> dict[str, np.ndarray]:
        """Run every task's detector on ``image`` (BGR or BGRA) and return float boxes per task.

        Parameters
        ----------
        image : ndarray of uint8, shape (H, W, 3|4)
        verify : bool
            The verification pass: only the tasks verified by detection (``verify_threshold`` not
            None), at that threshold, one whole-frame pass per detector that offers it (no
            small-object tiles).

        Returns
        -------
        dict of str to ndarray of float32, shape (N, 4), with the scores in ``_scores`` keys.

        Raises
        ------
        DetectionError
            The detector raised or returned something that is not a valid ``Detections``.
        """
        bgr = np.ascontiguousarray(image[:, :, :3])
        out: dict[str, np.ndarray] = {}
        for task in self.options.what:
            thr = self.options.verify_threshold(task) if verify else self.options.thresholds[task]
            if thr is None:
                continue
            det = self.detector(task)
            try:
                found = _detect(det, bgr, whole_frame=verify)
            except VeilcvError:
                raise
            except Exception as exc:  # a detector bug must fail the file, never pass it
                raise DetectionError(f"{task} detector failed: {type(exc).__name__}: {exc}") from exc
            boxes, scores = _validated(found, task, bgr.shape)
            keep = scores >= thr
            out[task] = boxes[keep]
            out[f"_scores_{task}"] = scores[keep]
        return out

    def redact_array(self, image: np.ndarray, boxes: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Redact ``image`` in place over ``boxes`` (float, per task) grown by ``mask_scale``.

        Regions a detector already grew to the object's frame (``grown_to_frame``: plates found as
        text lines) are redacted as they are.

        Returns
        -------
        dict of str to ndarray of int64, shape (N, 4)
            The integer boxes actually redacted, per task.
        """
        from veilcv.core import kernels

        o = self.options
        applied: dict[str, np.ndarray] = {}
        for task in o.what:
            fb = np.asarray(boxes.get(task, np.zeros((0, 4), np.float32)), dtype=np.float64).reshape(-1, 4)
            # scale_boxes rounds outward: a fractional box edge never leaves a sliver of face. Plates
            # found as text lines come grown to the plate's frame by their detector: the margin is
            # not added again (it doubled their area); every other region gets it.
            scale = 1.0 if getattr(self._detectors.get(task), "grown_to_frame", False) else o.mask_scale
            applied[task] = np.asarray(kernels.scale_boxes(fb, scale, image.shape[:2]), np.int64).reshape(
                -1, 4
            )
        allb = np.concatenate([applied[t] for t in o.what]) if o.what else np.zeros((0, 4), np.int64)
        if len(allb):
            try:
                if o.mode == "pixelate":
                    # A region under two cells per side would keep nearly all its pixels as they were
                    # (1-pixel cells): those get a solid box instead.
                    short = np.minimum(allb[:, 2] - allb[:, 0], allb[:, 3] - allb[:, 1]) < 2 * o.cells
                    kernels.pixelate(image, allb[~short], cells=o.cells, noise=o.noise, seed=o.seed)
                    kernels.black_box(image, allb[short], color=0)
                else:
                    shape = "ellipse" if o.mode == "ellipse" else "rect"
                    kernels.black_box(image, allb, color=0, shape=shape)
                if image.shape[2] == 4:  # make redacted regions opaque so the box is what a viewer sees
                    kernels.black_box(image[:, :, 3], allb, color=255, shape="rect")
            except VeilcvError:
                raise
            except Exception as exc:
                raise RedactionError(f"redaction kernel failed: {type(exc).__name__}: {exc}") from exc
        return applied

    def residuals(self, redacted: np.ndarray, applied: Mapping[str, np.ndarray]) -> list[dict[str, Any]]:
        """Residual detections: faces plainly visible on the redacted pixels outside what was redacted.

        One whole-frame pass of each task verified by detection (faces; see ``VERIFY_THRESHOLDS``)
        at its verification threshold; :func:`residual_candidates` then drops the detections on
        the task's own redacted regions, and those beside them (the footprint) under
        ``RESIDUAL_NEAR_LEVEL``: the box's edge, a chin or hair, not a leak. The rest are returned
        (``--strict`` fails the file on any).

        Parameters
        ----------
        redacted : ndarray of uint8, shape (H, W, 3|4)
            The output as it will be written (decoded from the encoded bytes).
        applied : mapping of str to ndarray of int64, shape (N, 4)
            The boxes redacted, per task (:meth:`redact_array`).

        Returns
        -------
        list of dict
            ``{"label", "score", "box"}`` per residual, box as integer ``[x0, y0, x1, y1]``.
        """
        found = self.detect_boxes(redacted, verify=True)
        out = []
        for task in self.options.what:
            if task in found:
                out += residual_candidates(
                    found[task],
                    found[f"_scores_{task}"],
                    applied.get(task, np.zeros((0, 4), np.int64)),
                    redacted.shape,
                    task,
                    near_level=max(RESIDUAL_NEAR_LEVEL, self.options.verify_threshold(task) or 0.0),
                )
        return out

    def check_written(
        self, written: np.ndarray, redacted: np.ndarray, applied: Mapping[str, np.ndarray], name: str
    ) -> None:
        """Fail unless every redacted region is redacted in the decoded output too.

        ``redacted`` is the array the kernels wrote; ``written`` is the encoded output decoded
        again. Each region's mean absolute difference between them must stay within encoding noise
        (a lossy encoder at the chosen quality moves flat regions by a few levels), so an encoder,
        colour-conversion or orientation fault cannot turn a redacted region back into a face. In
        ``box`` mode each region must also be black in the decoded output: a kernel that wrote
        nothing (``redacted`` still the original there) fails here too, where the residual pass
        would excuse the face it finds inside the region as the detector looking at its box.

        Raises
        ------
        RedactionError
            Naming the first region that differs.
        """
        if written.shape[:2] != redacted.shape[:2]:
            raise RedactionError(
                f"{name}: the encoded output is {written.shape[1]}x{written.shape[0]}, "
                f"the redacted image {redacted.shape[1]}x{redacted.shape[0]}"
            )
        a, b = written[:, :, :3], redacted[:, :, :3]
        for task, boxes in applied.items():
            for x0, y0, x1, y1 in np.asarray(boxes, np.int64).reshape(-1, 4):
                if x1 <= x0 or y1 <= y0:
                    continue
                diff = np.abs(a[y0:y1, x0:x1].astype(np.int16) - b[y0:y1, x0:x1]).mean()
                if diff > WRITTEN_REGION_TOLERANCE:
                    raise RedactionError(
                        f"{name}: the {task} region [{x0}, {y0}, {x1}, {y1}] differs from its redaction "
                        f"in the encoded output (mean difference {diff:.1f} levels)"
                    )
                level = a[y0:y1, x0:x1].mean() if self.options.mode == "box" else 0.0
                if level > WRITTEN_REGION_TOLERANCE:
                    raise RedactionError(
                        f"{name}: the {task} region [{x0}, {y0}, {x1}, {y1}] is not black in the encoded "
                        f"output (mean level {level:.1f})"
                    )

    def redact_image(
        self, image: np.ndarray, res: FileResult, *, name: str, suffix: str | None = None
    ) -> tuple[bytes | None, dict[str, np.ndarray]]:
        """Detect, redact ``image`` in place and verify: the one path of every image, bytes or array.

        ``res`` receives the detections, region counts, residuals, fix-round counts and timings.
        With ``suffix`` the image is encoded and the encoded bytes are what is verified (decoded
        again, regions checked against the redaction); without, the array itself is.

        Returns
        -------
        (bytes or None, dict of str to ndarray of int64, shape (N, 4))
            The encoded output (None without ``suffix``) and the boxes redacted per task, those of
            the fix rounds last (``res.fixed`` counts them).

        Raises
        ------
        VeilcvError
            Detection, kernel or verification failure; ``ResidualsError`` under ``strict``.
        """
        o = self.options
        t = time.perf_counter()
        boxes = self.detect_boxes(image)
        res.detections = [
            {"class": task, "box": [round(float(v), 1) for v in box], "score": round(float(score), 4)}
            for task in o.what
            for box, score in zip(boxes[task], boxes[f"_scores_{task}"], strict=True)
        ]
        t = _lap(res, "detect", t)
        applied = self.redact_array(image, boxes)
        res.regions = {k: int(len(v)) for k, v in applied.items()}
        t = _lap(res, "redact", t)
        out = None
        if suffix is not None:
            out = encode_image(image, suffix, quality=o.quality)
            t = _lap(res, "encode", t)
        if not o.verify:
            return out, applied

        def look() -> list[dict[str, Any]]:
            # Verify what will be written, not the in-memory array: decode the encoded output.
            written = image if out is None else decode_image(out, name=name)
            self.check_written(written, image, applied, name)
            return self.residuals(written, applied)

        res.residuals = look()
        for _ in range(o.fix_rounds):
            if not res.residuals:
                break
            extra = {
                task: np.array([r["box"] for r in res.residuals if r["label"] == task], np.float32)
                for task in o.what
            }
            added = self.redact_array(image, extra)
            for task, b in added.items():
                if len(b):
                    res.fixed[task] = res.fixed.get(task, 0) + len(b)
                    res.regions[task] = res.regions.get(task, 0) + len(b)
            applied = {task: np.concatenate([applied[task], added[task]]) for task in o.what}
            if suffix is not None:
                out = encode_image(image, suffix, quality=o.quality)
            res.residuals = look()
        _lap(res, "verify", t)
        if o.strict and res.residuals:
            top = max(res.residuals, key=lambda r: r["score"])
            raise ResidualsError(
                f"{name}: {len(res.residuals)} face(s) still visible on the redacted output (--strict; "
                f"highest score {top['score']} at {top['box']}); --fix-residuals 1 redacts them too",
                res.residuals,
            )
        return out, applied

    def redact_bytes(self, data: bytes, suffix: str, *, name: str = "<bytes>") -> tuple[bytes, FileResult]:
        """Redact one encoded image held in memory.

        Parameters
        ----------
        data : bytes
            The encoded input image.
        suffix : str
            Output format (``.jpg``, ``.png``, ...), normally the input's suffix.
        name : str
            Name used in error messages and the result.

        Returns
        -------
        (bytes, FileResult)
            The verified, metadata-free output and its record.

        Raises
        ------
        VeilcvError
            Any failure (decode, detection, redaction, verification, strict residuals, encode,
            metadata check). Nothing is returned on failure.
        """
        suffix = output_suffix(suffix)
        res = FileResult(input=name, input_sha256=sha256_bytes(data), output_suffix=suffix)
        t = time.perf_counter()
        image = decode_image(data, name=name)
        res.height, res.width = image.shape[:2]
        t = _lap(res, "decode", t)
        out, _ = self.redact_image(image, res, name=name, suffix=suffix)
        if out is None:  # cannot happen with a suffix; never write what was not encoded and checked
            raise RedactionError(f"{name}: no encoded output")
        t = time.perf_counter()
        check_output_metadata(out, name=name, suffix=suffix, allowed=self.options.allowed_metadata)
        _lap(res, "metadata_check", t)
        res.output_sha256 = sha256_bytes(out)
        res.ok = True
        return out, res

    def redact_file(self, src: str | Path, dst: str | Path) -> FileResult:
        """Redact ``src`` (image or video) into ``dst`` atomically; nothing is written on failure.

        ``src == dst`` (in place) is allowed: the original is replaced only by a complete,
        verified output.

        Raises
        ------
        VeilcvError
            Any failure, with a message naming ``src``.
        """
        src, dst = Path(src), Path(dst)
        kind = media_kind(src)
        if kind is None:
            raise InputError(f"{src}: expected an image or video file, got suffix {src.suffix!r}")
        if kind == "video":
            from veilcv.core.video import redact_video

            return redact_video(self, src, dst)
        try:
            data = src.read_bytes()
        except OSError as exc:
            raise InputError(f"{src}: cannot read: {exc.strerror or exc}") from exc
        if output_suffix(dst.suffix).lower() != dst.suffix.lower():
            raise InputError(
                f"{dst}: the metadata checker cannot verify {dst.suffix} files; "
                f"write {dst.with_suffix(output_suffix(dst.suffix)).name} instead"
            )
        out, res = self.redact_bytes(data, dst.suffix, name=str(src))
        t = time.perf_counter()
        remove_stale_temps(dst)
        try:
            with atomic_path(dst) as tmp:
                tmp.write_bytes(out)
                # Read back what landed on disk before it gets its final name: a short or altered
                # write must fail here, not leave a file that was never checked.
                if sha256_file(tmp) != res.output_sha256:
                    raise RedactionError(f"{src}: bytes written to {dst.parent} differ from the checked ones")
                # The temp file is created private (0600); the output gets the input's permissions.
                os.chmod(tmp, src.stat().st_mode & 0o777)
        except OSError as exc:
            raise RedactionError(f"{src}: cannot write {dst}: {exc.strerror or exc}") from exc
        _lap(res, "write", t)
        res.input, res.output = str(src), str(dst)
        return res

    def run(
        self,
        pairs: Iterable[tuple[Path, Path]],
        *,
        jobs: int = 2,
        on_frame: Callable[[Path, int, int], None] | None = None,
        on_result: Callable[[FileResult], None] | None = None,
        redact_one: Callable[[Any, Any], FileResult] | None = None,
    ) -> Iterator[FileResult]:
        """Redact many ``(src, dst)`` pairs with ``jobs`` threads; yields results as they finish.

        Errors never escape: a failed file yields a result with ``ok=False`` and a one-line
        ``error`` (and, for a ``--strict`` failure, the residuals that failed it); the other files
        continue. Decode, inference, redaction and encode of different files overlap (the heavy
        steps release the GIL). ``on_result`` is called in the worker thread as each file ends,
        also for files that end after the consumer stopped iterating (a Ctrl-C lets the running
        files finish): an audit record can then list every output written. ``redact_one(src, dst)``
        redacts one pair instead of :meth:`redact_file` (an engine's own locations, such as URLs),
        with the same error handling.
        """
        self.on_frame = on_frame
        it = iter(pairs)
        with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="veil-redact") as pool:
            pending: dict[Future[FileResult], Path] = {}
            stopped: BaseException | None = None  # the pairs' iterator raised: finish, then re-raise
            try:
                while True:
                    while stopped is None and len(pending) < 2 * max(1, jobs):
                        try:
                            nxt = next(it, None)
                        except Exception as exc:  # a bad pair: the files running still report
                            stopped = exc
                            break
                        if nxt is None:
                            break
                        pending[pool.submit(self._safe, *nxt, on_result, redact_one)] = nxt[0]
                    if not pending:
                        if stopped is not None:
                            raise stopped
                        return
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        pending.pop(fut)
                        yield fut.result()
            finally:
                for fut in pending:
                    fut.cancel()

    def _safe(
        self,
        src: Path,
        dst: Path,
        on_result: Callable[[FileResult], None] | None = None,
        redact_one: Callable[[Any, Any], FileResult] | None = None,
    ) -> FileResult:
        try:
            res = (redact_one or self.redact_file)(src, dst)
        except VeilcvError as exc:
            msg = " ".join(str(exc).split())  # one line, whatever a library put in the message
            res = FileResult(
                input=str(src),
                kind=media_kind(src) or "unknown",
                error=msg if str(src) in msg else f"{src}: {msg}",
                residuals=list(getattr(exc, "residuals", [])),
            )
        except Exception as exc:  # fail closed on bugs too: no output, one line
            res = FileResult(
                input=str(src),
                kind=media_kind(src) or "unknown",
                error=" ".join(f"{src}: internal error: {type(exc).__name__}: {exc}".split()),
            )
        if on_result is not None:
            on_result(res)
        return res


def residual_candidates(
    boxes: np.ndarray,
    scores: np.ndarray,
    regions: np.ndarray,
    shape: tuple[int, ...],
    label: str,
    *,
    near_level: float,
) -> list[dict[str, Any]]:
    """Which detections on a redacted output are residuals, by where they lie against ``regions``.

    - At least ``RESIDUAL_MAX_COVERED`` inside a redacted region: the detector looking at the box it
      was given; never a residual (box mode also checks every region is black, ``check_written``).
    - Otherwise at least that much inside the footprint (each region grown by
      ``RESIDUAL_FOOTPRINT_GROW`` of its size on every side): the box's edge, a chin or hair beside
      it, or a face standing next to a redacted one; a residual only at ``near_level`` or more (a
      face the detector is sure of).
    - Elsewhere: every detection passed in (the caller filters by the verification level).

    ``regions`` are the task's own redacted boxes (another class's regions excuse nothing).
    Returns ``{"label", "score", "box"}`` per residual, box as integer ``[x0, y0, x1, y1]`` rounded
    outward and clipped to ``shape``.
    """
    h, w = shape[:2]
    if not len(boxes):
        return []
    on = np.zeros((h, w), bool)
    near = np.zeros((h, w), bool)
    for x0, y0, x1, y1 in np.asarray(regions, np.int64).reshape(-1, 4):
        gx, gy = int((x1 - x0) * RESIDUAL_FOOTPRINT_GROW), int((y1 - y0) * RESIDUAL_FOOTPRINT_GROW)
        on[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = True
        near[max(0, y0 - gy) : max(0, y1 + gy), max(0, x0 - gx) : max(0, x1 + gx)] = True
    out = []
    for box, score in zip(boxes, scores, strict=True):
        x0, y0 = int(np.clip(np.floor(box[0]), 0, w)), int(np.clip(np.floor(box[1]), 0, h))
        x1, y1 = int(np.clip(np.ceil(box[2]), 0, w)), int(np.clip(np.ceil(box[3]), 0, h))
        area = (x1 - x0) * (y1 - y0)
        if area <= 0:
            continue
        # a few detections per frame: counting inside each box beats an integral image of the frame
        if np.count_nonzero(on[y0:y1, x0:x1]) / area >= RESIDUAL_MAX_COVERED:
            continue
        if np.count_nonzero(near[y0:y1, x0:x1]) / area >= RESIDUAL_MAX_COVERED and score < near_level:
            continue
        out.append({"label": label, "score": round(float(score), 4), "box": [x0, y0, x1, y1]})
    return out


def _warm_kernels(mode: str) -> None:
    """Ready the kernels ``mode`` uses and NMS, off the first file's path.

    The kernels' backend first (``veilcv.core.kernels._backend``): the ahead-of-time module loads in
    a millisecond, and is built once per environment (seconds) where it is missing; otherwise the
    JIT code loads from Numba's cache. Detection uses the NumPy NMS loop (same boxes) until this is
    done instead of waiting for it, so the first inferences overlap this thread's work.
    """
    from veilcv.core.detection import nms
    from veilcv.core.kernels import _backend

    with contextlib.suppress(Exception):  # a real failure shows up, with its message, on the first file
        nms.load_compiled(prepare=_backend.prepare)
        _backend.prepare()  # at once if the line above ran it; else NMS was loaded before, without it
        from veilcv.core import kernels

        img = np.zeros((32, 32, 3), np.uint8)
        box = kernels.scale_boxes(np.array([[1.0, 1.0, 30.0, 30.0]]), 1.0, img.shape)
        kernels.black_box(img, box, shape="ellipse" if mode == "ellipse" else "rect")
        if mode == "pixelate":
            kernels.pixelate(img, box)
        kernels.black_box(img[:, :, 0], box, color=255)  # the alpha channel of BGRA images


__all__ = [
    "DEFAULT_MASK_SCALE",
    "DEFAULT_THRESHOLDS",
    "MODES",
    "RESIDUAL_FOOTPRINT_GROW",
    "RESIDUAL_MAX_COVERED",
    "TASKS",
    "Detector",
    "FileResult",
    "ModelError",
    "RedactOptions",
    "Redactor",
    "check_output_metadata",
    "normalize_what",
    "residual_candidates",
    "output_suffix",
    "remove_stale_temps",
    "sha256_bytes",
    "sha256_file",
]
