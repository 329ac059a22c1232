"""``veilcv.Redactor`` and what it returns: redaction of arrays, encoded bytes and files, fail-closed.

The methods run the same pipeline as `veil redact` (:mod:`veilcv.core.pipeline`): one options check
(:class:`~veilcv.core.redact_types.RedactOptions`), one detect → redact → verify sequence.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np

from veilcv._api import keyword_error
from veilcv._api.options import redact_options
from veilcv._api.results import Detection, RedactionResult, Region, box_ints, checked_image, to_channels
from veilcv.core.defaults import DEFAULT_MASK_SCALE
from veilcv.core.pipeline import Redactor as _Pipeline
from veilcv.core.redact_types import FileResult, RedactOptions
from veilcv.errors import InputError, RedactionError, ResidualsError, ValidationError, VeilcvError


class Redactor:
    """Detects and redacts faces, licence plates and text, fail-closed.

    One instance loads each model once (on first use, or at :meth:`load`) and serves any number of
    calls, from any number of threads at once: share one per process (a worker, a Ray actor, a
    data-loader) instead of building one per image. A pickled copy (sent to another process)
    carries the settings only and loads its own models there. Every method either returns a verified
    redaction or raises a :class:`~veilcv.errors.VeilcvError` subclass; none returns unredacted
    pixels or writes an unverified file.

    Parameters
    ----------
    what : str or iterable of str
        Classes to redact: ``"faces"``, ``"plates"``, ``"text"``, as a comma-separated string or a
        list (singular spellings work too).
    mode : {"box", "ellipse", "pixelate"}
        Solid box (irreversible), filled ellipse inscribed in the box, or mosaic (weaker than a box:
        it keeps coarse structure; regions under two cells per side get a solid box).
    mask_scale : float
        Each face box grows by this factor about its centre before redaction, in ``[1, 4]``.
        Plate and text regions are grown to the plate frame or text margin by their detector.
    thresholds : mapping of str to float, optional
        Detection score threshold per class, e.g. ``{"face": 0.3}``; classes not given keep their
        default. A lower face threshold misses fewer faces and redacts more background.
    precision : {"auto", "f32", "f16", "bf16", "int8"}
        Inference precision (``int8``: the face model only).
    profile : path-like, optional
        A tuning profile written by `veil tune` (its thresholds, precision and tiling choices).
    small_faces : bool, optional
        Also look at a finer scale where the whole-frame pass found small faces. None: the
        profile's choice, else on.
    verify : bool
        Verify every output: run the face detector again over the redacted pixels (files and bytes:
        over the encoded output, decoded again, and check each region is redacted in it).
    strict : bool
        Raise :class:`~veilcv.errors.ResidualsError` when verification finds a face outside the
        redacted regions, instead of reporting it in ``residuals``.
    fix_residuals : int
        Rounds (0 to 5) of redacting what verification found too and verifying again.
    quality : int
        JPEG/WebP output quality of :meth:`redact_file` and :meth:`redact_bytes`.
    carry : int
        Video: a box found in frame t also covers this many frames before and after.
    keep_audio : bool
        Video: copy the audio track into the output (dropped by default).

    Raises
    ------
    ValidationError
        An option out of range or unknown (the message names the keyword).

    Examples
    --------
    >>> redactor = veilcv.Redactor(what="faces", mode="box")
    >>> result = redactor.redact(image)        # an (H, W, 3) uint8 BGR array
    >>> result.regions                         # (Region(label='face', box=(...), fixed=False),)
    """

    def __init__(
        self,
        what: str | Iterable[str] = "faces,plates",
        *,
        mode: str = "box",
        mask_scale: float = DEFAULT_MASK_SCALE,
        thresholds: Mapping[str, float] | None = None,
        precision: str = "auto",
        profile: str | os.PathLike[str] | None = None,
        small_faces: bool | None = None,
        verify: bool = True,
        strict: bool = False,
        fix_residuals: int = 0,
        quality: int = 95,
        carry: int = 5,
        keep_audio: bool = False,
    ) -> None:
        try:
            options = redact_options(
                what,
                mode=mode,
                mask_scale=mask_scale,
                thresholds=thresholds,
                precision=precision,
                profile=profile,
                small_faces=small_faces,
                verify=verify,
                strict=strict,
                fix_residuals=fix_residuals,
                quality=quality,
                carry=carry,
                keep_audio=keep_audio,
            )
        except InputError as exc:
            raise keyword_error(exc) from None
        self._pipeline = _Pipeline(options)

    def __reduce__(self) -> tuple[Any, tuple[RedactOptions]]:
        # Pickled as its options (a DataLoader worker, a process pool): models and kernels are not
        # sent; the copy loads its own on first use, in the process that uses it.
        return (_from_options, (self._pipeline.options,))

    def __repr__(self) -> str:
        o = self._pipeline.options
        return (
            f"veilcv.Redactor(what={','.join(o.what)!r}, mode={o.mode!r}, mask_scale={o.mask_scale}, "
            f"thresholds={dict(o.thresholds)}, precision={o.precision!r}, verify={o.verify}, "
            f"strict={o.strict})"
        )

    def load(self, threads: int = 1) -> None:
        """Load every model now, so that a missing one fails here rather than on the first image.

        Parameters
        ----------
        threads : int
            How many calls will run at once: the models get that many CPU streams (at most one per
            core). Calls made before this loads the models with one stream.

        Raises
        ------
        ModelError
            A model is missing, fails its hash check or cannot be compiled.
        """
        if not (isinstance(threads, int) and threads >= 1):
            raise ValidationError(f"threads: expected an integer >= 1, got {threads!r}")
        _guarded("load", lambda: self._pipeline.load(threads))

    def describe(self) -> dict[str, Any]:
        """What an audit record says about this redactor (loads the models).

        Returns
        -------
        dict
            Tool version, classes, mode, thresholds, verification settings and each model's name,
            precision and sha256: the header of `veil redact`'s JSON report.
        """
        return _guarded("describe", self._pipeline.report_header)

    def redact(self, image: np.ndarray, *, channels: Literal["bgr", "rgb"] = "bgr") -> RedactionResult:
        """Redact one decoded image held in memory.

        Parameters
        ----------
        image : ndarray of uint8, shape (H, W, 3) or (H, W, 4)
            The image, not modified. Any strides (views, crops) are accepted.
        channels : {"bgr", "rgb"}
            Channel order of ``image``: ``"bgr"`` as OpenCV reads images, ``"rgb"`` as Pillow,
            scikit-image and most training pipelines hold them. A fourth channel is alpha; redacted
            regions are made opaque in it. ``pixels`` comes back in the same order.

        Returns
        -------
        RedactionResult
            The redacted copy, its regions, detections, residuals and timings.

        Raises
        ------
        ValidationError
            ``image`` is not an (H, W, 3|4) uint8 array, or ``channels`` is unknown.
        ModelError
            A model could not be loaded.
        DetectionError
            A detector failed on the image or during verification.
        RedactionError
            Redaction failed; :class:`~veilcv.errors.ResidualsError` (a ``RedactionError``) when,
            with ``strict=True``, a face is still visible after it: its ``residuals`` say where.
        """
        bgr = checked_image(image, channels)
        return _guarded("<array>", lambda: self._redact_array(bgr, channels))

    def redact_bytes(self, data: bytes, suffix: str) -> tuple[bytes, FileResult]:
        """Redact one encoded image (JPEG, PNG, WebP, TIFF, BMP or HEIC bytes).

        Parameters
        ----------
        data : bytes
            The encoded input.
        suffix : str
            Output format, e.g. ``".jpg"`` or ``".png"`` (BMP and HEIC are written as PNG).

        Returns
        -------
        (bytes, FileResult)
            The verified output without any metadata, and its audit record.

        Raises
        ------
        VeilcvError
            Undecodable input, detection, redaction or verification failure, or metadata left in the
            output. Nothing is returned on failure.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ValidationError(f"data: expected bytes, got {type(data).__name__}")
        if not isinstance(suffix, str):
            raise ValidationError(f"suffix: expected a file suffix such as '.jpg', got {suffix!r}")
        dot = suffix if suffix.startswith(".") else f".{suffix}"
        return _guarded("<bytes>", lambda: self._pipeline.redact_bytes(bytes(data), dot))

    def redact_file(self, src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> FileResult:
        """Redact an image or video file into ``dst``, atomically: nothing is written on failure.

        ``dst`` may be ``src`` (in place): the original is replaced only by a complete, verified
        output. The output carries no metadata and gets the input's permissions.

        Returns
        -------
        FileResult
            The audit record (hashes, regions, detections, residuals, timings) `veil redact`
            writes to its report.

        Raises
        ------
        VeilcvError
            Any failure, with a message naming ``src``; ``dst`` is then left as it was.
        """
        return _guarded(str(src), lambda: self._pipeline.redact_file(Path(src), Path(dst)))

    def redact_files(
        self,
        pairs: Iterable[tuple[str | os.PathLike[str], str | os.PathLike[str]]],
        *,
        threads: int = 2,
    ) -> Iterator[FileResult]:
        """Redact many ``(src, dst)`` pairs on ``threads`` threads; yield each record as its file ends.

        What `veil redact` does with a folder: a failed file does not stop the others; its record
        has ``ok=False`` and a one-line ``error``, and nothing was written for it. Records come in
        the order the files end (``record.input`` names each). Stopping early (``break``, or closing
        the iterator) lets the running files finish and starts no others.

        Parameters
        ----------
        pairs : iterable of (path-like, path-like)
            Input and output of each file, read as the work goes (a generator is fine).
        threads : int
            Files redacted at once; the models get that many CPU streams if they are not loaded yet.

        Yields
        ------
        FileResult
            One per pair.

        Raises
        ------
        ValidationError
            An item of ``pairs`` is not a ``(src, dst)`` pair of paths.
        ModelError
            A model could not be loaded (before any file).
        """
        if not (isinstance(threads, int) and threads >= 1):
            raise ValidationError(f"threads: expected an integer >= 1, got {threads!r}")
        return self._files(pairs, threads)

    def _files(self, pairs: Iterable[Any], threads: int) -> Iterator[FileResult]:
        if self._pipeline._streams is None:  # not loaded yet: one stream per thread
            self.load(threads)
        yield from self._pipeline.run(_pairs(pairs), jobs=threads)

    def _redact_array(self, bgr: np.ndarray, channels: str) -> RedactionResult:
        # The pipeline's one image path (detect, redact, verify, fix rounds, strict), on the array.
        res = FileResult(input="<array>")
        try:
            _, applied = self._pipeline.redact_image(bgr, res, name="<array>")
        except ResidualsError as exc:  # the message names the keywords, not the command's flags
            msg = str(exc).replace("--strict", "strict=True").replace("--fix-residuals 1", "fix_residuals=1")
            raise ResidualsError(msg, exc.residuals) from None
        detections = tuple(
            Detection(d["class"], tuple(d["box"]), d["score"])  # type: ignore[arg-type]
            for d in res.detections
        )
        regions = []
        for task, boxes in applied.items():
            first = len(boxes) - res.fixed.get(task, 0)  # the fix rounds' boxes come last
            regions += [Region(task, box_ints(b), fixed=k >= first) for k, b in enumerate(boxes)]
        residuals = res.residuals
        timings = dict(res.timings_ms)
        pixels = to_channels(bgr, channels)
        return RedactionResult(
            pixels=pixels,
            regions=tuple(regions),
            detections=detections,
            residuals=tuple(
                Detection(r["label"], tuple(map(float, r["box"])), r["score"])  # type: ignore[arg-type]
                for r in residuals
            ),
            timings_ms=timings,
        )


def _pairs(pairs: Iterable[Any]) -> Iterator[tuple[Path, Path]]:
    for item in pairs:
        try:
            src, dst = item
            pair = (Path(src), Path(dst))
        except (TypeError, ValueError):
            raise ValidationError(f"pairs: expected (src, dst) pairs of paths, got {item!r}") from None
        yield pair


def _from_options(options: RedactOptions) -> Redactor:
    redactor = Redactor.__new__(Redactor)
    redactor._pipeline = _Pipeline(options)
    return redactor


def _guarded(name: str, call: Any) -> Any:
    """Run ``call``; a bug below surfaces as a RedactionError, never as a bare exception."""
    try:
        return call()
    except VeilcvError:
        raise
    except Exception as exc:  # the API's contract: only the documented exception types escape
        raise RedactionError(f"{name}: internal error: {type(exc).__name__}: {exc}") from exc


Redactor.__module__ = "veilcv"  # shown, documented and pickled as the public name
