"""Video redaction: every frame redacted, boxes carried across neighbouring frames, audio dropped by default.

A detector that misses a face in one frame must not leak it, so each box found in frame ``t`` also
covers frames ``t-k .. t+k``: boxes are linked into short tracks across frames, gaps inside a track
are filled by linear interpolation and each track is held ``k`` frames before its first and after
its last sighting (:func:`carry_boxes`). Frames are decoded and encoded with OpenCV; the container
is then rewritten by the ffmpeg binary that the imageio-ffmpeg package ships, which drops all
container metadata and, with ``keep_audio``, copies the input's audio stream.
"""

from __future__ import annotations

import collections
import contextlib
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from veilcv.atomic import atomic_path
from veilcv.core.ffmpeg import H264Writer, ffmpeg_exe, has_encoder, probe
from veilcv.errors import InputError, RedactionError, ResidualsError, VeilcvError

if TYPE_CHECKING:
    from veilcv.core.pipeline import FileResult, Redactor

_FOURCC = {".avi": "MJPG"}  # without the ffmpeg binary: MPEG-4 part 2, which every OpenCV FFmpeg build writes
#: Containers that can say when a stream starts (an edit list): the input's start times are kept.
_TIMED = frozenset({".mp4", ".mov", ".m4v", ".mkv"})
MAX_RESIDUALS_LISTED = 50


def _iou_grown(a: np.ndarray, b: np.ndarray, grow: np.ndarray) -> np.ndarray:
    """IoU of every pair ``(a[i], b[j])`` after both are grown ``grow[i]``× about their centres.

    Growing both boxes lets a moving face still link to its track across a gap of frames.
    """
    g = np.asarray(grow, np.float64).reshape(-1, 1, 1)
    ca, ha = (a[:, :2] + a[:, 2:]) / 2, (a[:, 2:] - a[:, :2]) / 2
    cb, hb = (b[:, :2] + b[:, 2:]) / 2, (b[:, 2:] - b[:, :2]) / 2
    ha2, hb2 = ha[:, None, :] * g, hb[None, :, :] * g  # (Na, 1|Nb, 2) and (Na, Nb, 2)
    lt = np.maximum(ca[:, None, :] - ha2, cb[None, :, :] - hb2)
    rb = np.minimum(ca[:, None, :] + ha2, cb[None, :, :] + hb2)
    inter = np.clip(rb - lt, 0, None).prod(axis=2)
    union = (2 * ha2).prod(axis=2) + (2 * hb2).prod(axis=2) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def carry_boxes(per_frame: Sequence[np.ndarray], k: int, *, min_iou: float = 0.1) -> list[np.ndarray]:
    """Spread boxes to neighbouring frames so a one-frame detector miss does not leak.

    Boxes are linked greedily (highest IoU first, on boxes grown ``1 + gap``× about their centres,
    so a face may move about half its size per frame) to the track seen last at most ``k`` frames
    earlier. For every frame ``t`` the result holds:
    the frame's own boxes; for each track whose sightings bracket ``t``, the box linearly
    interpolated between the two sightings around ``t``; and for each track that starts or ends
    within ``k`` frames of ``t``, its first or last box (held in place).

    Parameters
    ----------
    per_frame : sequence of ndarray, shape (N_t, 4)
        Float boxes ``(x0, y0, x1, y1)`` of each frame, in frame order.
    k : int
        Carry distance in frames (0: no carry, the input is returned as float32 copies).
    min_iou : float
        Least IoU (of the grown boxes) for two sightings to belong to one track.

    Returns
    -------
    list of ndarray of float32, shape (M_t, 4)
        Boxes to redact in each frame; ``M_t >= N_t``; may overlap (redaction handles that).
    """
    frames = [np.asarray(b, dtype=np.float64).reshape(-1, 4) for b in per_frame]
    if k <= 0:
        return [f.astype(np.float32) for f in frames]
    tracks: list[list[tuple[int, np.ndarray]]] = []
    for t, boxes in enumerate(frames):
        active = [i for i, tr in enumerate(tracks) if t - tr[-1][0] <= k and tr[-1][0] < t]
        taken_t: set[int] = set()
        taken_b: set[int] = set()
        if active and len(boxes):
            last = np.stack([tracks[i][-1][1] for i in active])
            gaps = np.array([t - tracks[i][-1][0] for i in active], np.float64)
            sim = _iou_grown(last, boxes, 1.0 + gaps)
            for flat in np.argsort(-sim, axis=None):
                ti, bi = divmod(int(flat), sim.shape[1])
                if sim[ti, bi] < min_iou:
                    break
                if ti in taken_t or bi in taken_b:
                    continue
                taken_t.add(ti)
                taken_b.add(bi)
                tracks[active[ti]].append((t, boxes[bi]))
        for bi in range(len(boxes)):
            if bi not in taken_b:
                tracks.append([(t, boxes[bi])])
    out: list[list[np.ndarray]] = [[f] for f in frames]
    for tr in tracks:
        first, last = tr[0][0], tr[-1][0]
        for t in range(max(0, first - k), first):
            out[t].append(tr[0][1][None])
        for t in range(last + 1, min(len(frames), last + k + 1)):
            out[t].append(tr[-1][1][None])
        for (ta, ba), (tb, bb) in zip(tr, tr[1:], strict=False):
            for t in range(ta + 1, tb):
                w = (t - ta) / (tb - ta)
                out[t].append(((1 - w) * ba + w * bb)[None])
    return [np.concatenate(parts).astype(np.float32) for parts in out]


def has_audio(path: Path, ffmpeg: str | None = None) -> bool | None:
    """Whether ``path`` has an audio stream (None when ffmpeg is unavailable to tell)."""
    ffmpeg = ffmpeg or ffmpeg_exe()
    return None if ffmpeg is None else probe(ffmpeg, path).audio


def redact_video(redactor: Redactor, src: Path, dst: Path) -> FileResult:
    """Redact every frame of ``src`` into ``dst`` atomically (nothing is written on failure).

    Parameters
    ----------
    redactor : Redactor
        Supplies the options, detectors and kernels.
    src, dst : Path
        Input video and output path (the container follows ``dst``'s suffix).

    Returns
    -------
    FileResult
        ``frames`` frames, regions summed over frames, residuals (capped list) and ``audio``:
        ``"none"``, ``"dropped"`` or ``"kept"``.

    Raises
    ------
    VeilcvError
        Unreadable input, detector or kernel failure, strict residuals, writer or remux failure.
    """
    from veilcv.core.pipeline import FileResult, remove_stale_temps, sha256_file

    o = redactor.options
    res = FileResult(input=str(src), kind="video", input_sha256=sha256_file(src), output_suffix=dst.suffix)
    ffmpeg = ffmpeg_exe()
    probed = probe(ffmpeg, src) if ffmpeg is not None else None
    audio = None if probed is None else probed.audio
    if o.keep_audio and ffmpeg is None:
        raise InputError(
            f"{src}: --keep-audio needs the ffmpeg binary of imageio-ffmpeg; install imageio-ffmpeg"
        )
    res.audio = "none" if audio is False else ("kept" if o.keep_audio else "dropped")
    cap = cv2.VideoCapture(str(src))
    if not cap.isOpened():
        raise InputError(
            f"{src}: expected a video OpenCV can read (MP4, MOV, AVI, MKV), got one it cannot open"
        )
    remove_stale_temps(dst)
    raw = dst.parent / f".{dst.name}.raw.tmp{dst.suffix}"
    try:
        with atomic_path(dst) as final_tmp:
            _redact_frames(redactor, cap, src, raw, res, ffmpeg)
            if ffmpeg is not None:
                start = probed.video_start if probed is not None and dst.suffix.lower() in _TIMED else 0.0
                _remux(ffmpeg, raw, src if (o.keep_audio and audio) else None, final_tmp, src, start)
            else:
                raw.replace(final_tmp)
            final_tmp.chmod(src.stat().st_mode & 0o777)
            _check_no_metadata(final_tmp, src)
            res.output_sha256 = sha256_file(final_tmp)
    except VeilcvError:
        raise
    except OSError as exc:
        raise RedactionError(f"{src}: cannot write {dst}: {exc.strerror or exc}") from exc
    finally:
        cap.release()
        with contextlib.suppress(OSError):
            raw.unlink(missing_ok=True)
    res.output, res.ok = str(dst), True
    return res


def _check_no_metadata(out: Path, src: Path) -> None:
    """Refuse a written MP4/MOV/M4V that still carries container metadata (parsed box by box)."""
    from veilcv.core.metadata import check_file
    from veilcv.core.metadata.mp4 import SUFFIXES

    if out.suffix.lower() not in SUFFIXES:
        return
    report = check_file(out)
    if not report.clean:
        left = report.error or str(report.findings[0])
        raise RedactionError(f"{src}: the written video still carries metadata ({left}); nothing written")


def _open_writer(raw: Path, fps: float, w: int, h: int, ffmpeg: str | None, src: Path) -> Any:
    """H.264 through the ffmpeg binary where it has libx264; else OpenCV (MJPG for AVI, MPEG-4 part 2)."""
    if ffmpeg is not None and raw.suffix.lower() in _TIMED and has_encoder(ffmpeg, "libx264"):
        return H264Writer(ffmpeg, raw, fps, w, h)
    writer = cv2.VideoWriter(
        str(raw), cv2.VideoWriter_fourcc(*_FOURCC.get(raw.suffix.lower(), "mp4v")), fps, (w, h)
    )
    if not writer.isOpened():
        raise RedactionError(f"{src}: OpenCV cannot write a {w}x{h} video as {raw.suffix}; use .mp4 or .avi")
    return writer


def _redact_frames(
    redactor: Redactor, cap: Any, src: Path, raw: Path, res: FileResult, ffmpeg: str | None = None
) -> None:
    o = redactor.options
    k = o.carry
    fps = cap.get(cv2.CAP_PROP_FPS)
    fps = fps if np.isfinite(fps) and fps > 0 else 25.0
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    writer = None
    window: collections.deque[tuple[np.ndarray, dict[str, np.ndarray]]] = collections.deque()
    history: collections.deque[dict[str, np.ndarray]] = collections.deque(maxlen=k)
    res.regions = {t: 0 for t in o.what}
    residual_count = 0
    n_in = n_out = 0
    timings = res.timings_ms

    def emit() -> None:
        nonlocal writer, n_out, residual_count
        frame, _ = window[0]
        per_task = {}
        for task in o.what:
            seq = [h[task] for h in history] + [d[task] for _, d in window]
            carried = carry_boxes(seq, k)
            per_task[task] = carried[len(history)]
        t0 = time.perf_counter()
        applied = redactor.redact_array(frame, per_task)
        timings["redact"] = timings.get("redact", 0.0) + (time.perf_counter() - t0) * 1000
        for task, b in applied.items():
            res.regions[task] += int(len(b))
        if o.verify:
            t0 = time.perf_counter()
            # The frame goes to the encoder as it is: its regions must be redacted in it (a kernel
            # that wrote nothing fails here), and no face may be plainly visible beside them.
            redactor.check_written(frame, frame, applied, f"{src} frame {n_out}")
            found = redactor.residuals(frame, applied)
            timings["verify"] = timings.get("verify", 0.0) + (time.perf_counter() - t0) * 1000
            for r in found:
                residual_count += 1
                if len(res.residuals) < MAX_RESIDUALS_LISTED:
                    res.residuals.append({"frame": n_out, **r})
            if o.strict and found:
                raise ResidualsError(
                    f"{src}: {len(found)} face(s) still visible on redacted frame {n_out} (--strict)",
                    [{"frame": n_out, **r} for r in found],
                )
        t0 = time.perf_counter()
        if writer is None:
            h, w = frame.shape[:2]
            writer = _open_writer(raw, fps, w, h, ffmpeg, src)
        writer.write(frame)
        timings["encode"] = timings.get("encode", 0.0) + (time.perf_counter() - t0) * 1000
        _, dets = window.popleft()
        history.append(dets)
        n_out += 1
        if redactor.on_frame is not None:
            redactor.on_frame(src, n_out, max(total, n_out))

    try:
        while True:
            t0 = time.perf_counter()
            ok, frame = cap.read()
            timings["decode"] = timings.get("decode", 0.0) + (time.perf_counter() - t0) * 1000
            if not ok:
                break
            if frame.ndim == 2:
                frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
            frame = np.ascontiguousarray(frame)
            if res.width is None:
                res.height, res.width = frame.shape[:2]
            elif frame.shape[:2] != (res.height, res.width):
                raise InputError(
                    f"{src}: frame {n_in} is {frame.shape[1]}x{frame.shape[0]}, "
                    f"expected {res.width}x{res.height}"
                )
            t0 = time.perf_counter()
            window.append((frame, redactor.detect_boxes(frame)))
            timings["detect"] = timings.get("detect", 0.0) + (time.perf_counter() - t0) * 1000
            n_in += 1
            if len(window) > k:
                emit()
        while window:
            emit()
    finally:
        if writer is not None:
            writer.release()
    if n_out == 0:
        raise InputError(f"{src}: expected at least one decodable frame, got none")
    # A stream that stops decoding before the count its container declares is truncated or
    # corrupt: writing the frames that did decode would pass off a partial video as the whole.
    # Containers estimate the count for some codecs, hence the small slack.
    if total > 0 and n_in < total - max(2, total // 100):
        raise InputError(
            f"{src}: expected {total} frames (the container's count), decoded only {n_in}; "
            "the file is truncated or corrupt"
        )
    res.frames = n_out
    if residual_count > len(res.residuals):
        res.residuals.append({"truncated": residual_count - len(res.residuals)})
    for key in timings:
        timings[key] = round(timings[key], 3)


def _remux(ffmpeg: str, raw: Path, audio_src: Path | None, out: Path, src: Path, start: float = 0.0) -> None:
    """Rewrite the container without any metadata, copying the video (and audio) streams.

    The redacted video starts at ``start`` seconds, where the input's first frame was shown, and
    the copied audio keeps its own timestamps (``-copyts``): the streams stay in sync as they were.
    """
    cmd = [ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y"]
    cmd += ["-itsoffset", f"{start:.6f}", "-i", str(raw)] if start else ["-i", str(raw)]
    if audio_src is not None:
        cmd += ["-i", str(audio_src), "-map", "0:v:0", "-map", "1:a?", "-c:a", "copy"]
    else:
        cmd += ["-map", "0:v:0"]
    if start or (audio_src is not None and out.suffix.lower() in _TIMED):
        cmd += ["-copyts"]
    cmd += ["-c:v", "copy", "-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact"]
    probe_raw = subprocess.run([ffmpeg, "-hide_banner", "-i", str(raw)], capture_output=True, timeout=60)
    if b"Video: h264" in probe_raw.stderr:
        cmd += ["-bsf:v", "filter_units=remove_types=6"]  # x264's SEI note of its version and settings
    cmd += ["-flags:v", "+bitexact", "-sn", "-dn", str(out)]
    proc = subprocess.run(cmd, capture_output=True, timeout=3600)
    if proc.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise RedactionError(f"{src}: ffmpeg could not write the output container: {tail[0]}")
