"""Video redaction: the carry/interpolation function, and every frame of a real encoded video redacted."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from veilcv.core.detection.types import Detections
from veilcv.core.pipeline import RedactOptions, Redactor
from veilcv.core.video import carry_boxes, ffmpeg_exe, has_audio

E = np.zeros((0, 4), np.float32)


def b(*rows: tuple[float, float, float, float]) -> np.ndarray:
    return np.array(rows, np.float32).reshape(-1, 4)


def contains(boxes: np.ndarray, box: np.ndarray, tol: float = 1e-4) -> bool:
    return any(np.allclose(x, box, atol=tol) for x in boxes)


def test_carry_fills_a_one_frame_gap_by_interpolation() -> None:
    seq = [b((0, 0, 10, 10)), E, b((20, 0, 30, 10))]
    out = carry_boxes(seq, 2)
    assert contains(out[1], np.array([10, 0, 20, 10]))
    # own boxes are always kept
    assert contains(out[0], seq[0][0]) and contains(out[2], seq[2][0])


def test_carry_interpolates_linearly_across_a_longer_gap() -> None:
    seq = [b((0, 0, 10, 10)), E, E, E, b((20, 20, 30, 30))]
    out = carry_boxes(seq, 4)
    for t in (1, 2, 3):
        assert contains(out[t], np.array([5 * t, 5 * t, 5 * t + 10, 5 * t + 10]))


def test_carry_holds_k_frames_before_first_and_after_last_sighting() -> None:
    seq = [E] * 3 + [b((5, 5, 15, 15))] + [E] * 4
    out = carry_boxes(seq, 2)
    covered = [t for t in range(len(seq)) if contains(out[t], seq[3][0])]
    assert covered == [1, 2, 3, 4, 5]
    assert len(out[0]) == 0 and len(out[6]) == 0 and len(out[7]) == 0


def test_carry_does_not_link_across_gaps_longer_than_k() -> None:
    seq = [b((0, 0, 10, 10)), E, E, E, E, b((0, 0, 10, 10))]
    out = carry_boxes(seq, 1)
    assert len(out[2]) == 0 and len(out[3]) == 0
    assert contains(out[1], seq[0][0]) and contains(out[4], seq[5][0])


def test_carry_keeps_two_tracks_apart() -> None:
    left = [b((0, 0, 10, 10), (100, 0, 110, 10)), E, b((2, 0, 12, 10), (98, 0, 108, 10))]
    out = carry_boxes(left, 3)
    assert contains(out[1], np.array([1, 0, 11, 10])) and contains(out[1], np.array([99, 0, 109, 10]))
    # no box interpolated between the two tracks (which would smear across the middle)
    assert not any(30 < (x[0] + x[2]) / 2 < 80 for x in out[1])


def test_carry_zero_is_identity() -> None:
    seq = [b((0, 0, 10, 10)), E]
    out = carry_boxes(seq, 0)
    assert np.array_equal(out[0], seq[0]) and len(out[1]) == 0


class SquareDetector:
    """A real (tiny) detector: finds bright squares; misses frames whose marker pixel says so.

    Frame t carries 10 * t in its top-left 8x8 block (robust to lossy codecs); frames listed in
    ``miss`` return nothing, as a CNN's one-frame miss would.
    """

    info = {"name": "square-test-detector", "sha256": "0" * 64}

    def __init__(self, miss: set[int]) -> None:
        self.miss = miss

    def detect(self, image: np.ndarray) -> Detections:
        if round(float(image[:8, :8, 0].mean()) / 10) in self.miss:
            return Detections.empty()
        mask = (image[:, :, 1] > 200).astype(np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask)
        boxes = [(x, y, x + w, y + h) for x, y, w, h, area in stats[1:] if area > 50]
        arr = np.array(boxes, np.float32).reshape(-1, 4)
        return Detections(arr, np.full(len(arr), 0.9, np.float32), ("face",) * len(arr))


def square_pos(t: int) -> tuple[int, int]:
    return 20 + 6 * t, 30


def make_video(path: Path, frames: int = 16) -> None:
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (160, 96))
    assert w.isOpened()
    for t in range(frames):
        img = np.full((96, 160, 3), 60, np.uint8)
        x, y = square_pos(t)
        img[y : y + 24, x : x + 24] = 255
        img[:8, :8] = (10 * t) % 256
        w.write(img)
    w.release()


@pytest.mark.parametrize("suffix", [".mp4", ".avi", ".mkv", ".mov"])
def test_every_frame_redacted_even_where_the_detector_misses(tmp_path: Path, suffix: str) -> None:
    src = tmp_path / "clip.avi"
    make_video(src)
    dst = tmp_path / "out" / f"clip{suffix}"
    opts = RedactOptions(what=("face",), mask_scale=1.2, carry=3, verify=True)
    r = Redactor(opts, detectors={"face": SquareDetector(miss={5, 6, 11})})
    res = r.redact_file(src, dst)
    assert res.ok and res.frames == 16 and res.kind == "video"
    assert res.audio == "none"
    cap = cv2.VideoCapture(str(dst))
    t = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        x, y = square_pos(t)
        region = frame[y + 2 : y + 22, x + 2 : x + 22, 1]
        assert region.mean() < 40, f"frame {t}: square not redacted (mean {region.mean():.0f})"
        t += 1
    assert t == 16
    assert res.regions["face"] >= 16
    assert not list(dst.parent.glob(".*tmp*"))


def test_without_carry_the_missed_frame_leaks(tmp_path: Path) -> None:
    # The control for the test above: it shows that the carry is what covers the missed frame.
    src = tmp_path / "clip.avi"
    make_video(src)
    dst = tmp_path / "out.avi"
    opts = RedactOptions(what=("face",), mask_scale=1.2, carry=0, verify=False)
    Redactor(opts, detectors={"face": SquareDetector(miss={5})}).redact_file(src, dst)
    cap = cv2.VideoCapture(str(dst))
    for _ in range(6):
        ok, frame = cap.read()
    x, y = square_pos(5)
    assert frame[y + 2 : y + 22, x + 2 : x + 22, 1].mean() > 200


def test_unreadable_video_fails_without_output(tmp_path: Path) -> None:
    from veilcv.errors import InputError

    src = tmp_path / "broken.mp4"
    src.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)
    dst = tmp_path / "out" / "broken.mp4"
    r = Redactor(RedactOptions(what=("face",)), detectors={"face": SquareDetector(set())})
    with pytest.raises(InputError, match="broken.mp4"):
        r.redact_file(src, dst)
    assert not dst.exists()
    assert not any(dst.parent.glob("*")) if dst.parent.exists() else True


@pytest.mark.skipif(ffmpeg_exe() is None, reason="imageio-ffmpeg binary not available")
def test_audio_dropped_by_default_and_kept_on_request(tmp_path: Path) -> None:
    import subprocess

    ff = ffmpeg_exe()
    src = tmp_path / "talk.mp4"
    subprocess.run(
        [
            ff,
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=96x64:rate=10:duration=1",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=1",
            "-c:v",
            "mpeg4",
            "-c:a",
            "aac",
            "-shortest",
            "-metadata",
            "title=secret-title",
            "-metadata",
            "location=+48.85+002.35/",
            str(src),
        ],
        check=True,
    )
    assert has_audio(src)
    det = {"face": SquareDetector(set())}
    dropped = Redactor(RedactOptions(what=("face",)), detectors=det).redact_file(src, tmp_path / "a.mp4")
    assert dropped.audio == "dropped" and has_audio(tmp_path / "a.mp4") is False
    kept = Redactor(RedactOptions(what=("face",), keep_audio=True), detectors=det).redact_file(
        src, tmp_path / "b.mp4"
    )
    assert kept.audio == "kept" and has_audio(tmp_path / "b.mp4") is True
    for out in ("a.mp4", "b.mp4"):
        data = (tmp_path / out).read_bytes()
        assert b"secret-title" not in data and b"+48.85" not in data


def test_real_video_smoke(shared_data: Path, tmp_path: Path) -> None:
    """Real detector on real frames; the detector is made to miss frame 1: carry still covers it."""
    from veilcv.errors import ModelError

    src = shared_data / "video_smoke_egoblur" / "gen2" / "test_face_video.mp4"
    if not src.exists():
        pytest.skip("video_smoke_egoblur not present")
    # Cut the clip to 4 frames (keeps the test's CPU budget) without writing into the shared data.
    cap = cv2.VideoCapture(str(src))
    short = tmp_path / "short.avi"
    w = None
    frames = []
    for _ in range(4):
        ok, frame = cap.read()
        assert ok
        frame = cv2.resize(frame, (960, 720), interpolation=cv2.INTER_AREA)
        frames.append(frame)
        if w is None:
            w = cv2.VideoWriter(str(short), cv2.VideoWriter_fourcc(*"MJPG"), 10, (960, 720))
        w.write(frame)
    w.release()
    try:
        real = Redactor(RedactOptions(what=("face",)))
        real.load()
    except ModelError as exc:
        pytest.skip(f"face model unavailable: {exc}")
    det = real.detector("face")

    # What frame 1 really holds, from the same decoded pixels the pipeline sees.
    again = cv2.VideoCapture(str(short))
    again.read()
    ok, f1 = again.read()
    assert ok
    truth = det.detect(f1)
    faces = truth.boxes[truth.scores >= 0.5]
    assert len(faces) >= 2  # two people at the table

    class MissFrameOne:
        """The real detector, except that it finds nothing in frame 1 (a one-frame miss)."""

        info = det.info

        def detect(self, image: np.ndarray) -> Detections:
            return Detections.empty() if np.array_equal(image, f1) else det.detect(image)

    r = Redactor(RedactOptions(what=("face",), carry=2), detectors={"face": MissFrameOne()})
    res = r.redact_file(short, tmp_path / "out.mp4")
    assert res.frames == 4 and res.regions["face"] >= 4 * 2
    out = cv2.VideoCapture(str(tmp_path / "out.mp4"))
    out.read()
    ok, o1 = out.read()
    for x0, y0, x1, y1 in faces.astype(int):
        cx, cy, hw, hh = (x0 + x1) // 2, (y0 + y1) // 2, (x1 - x0) // 4, (y1 - y0) // 4
        assert o1[cy - hh : cy + hh, cx - hw : cx + hw].mean() < 30, "missed frame's face not covered"


def test_truncated_video_fails_without_output(tmp_path: Path) -> None:
    from veilcv.errors import InputError

    whole = tmp_path / "whole.avi"
    make_video(whole, frames=40)
    src = tmp_path / "cut.avi"
    data = whole.read_bytes()
    src.write_bytes(data[: len(data) // 2])  # AVI declares 40 frames in its header; half of them remain
    dst = tmp_path / "out" / "cut.avi"
    r = Redactor(RedactOptions(what=("face",)), detectors={"face": SquareDetector(set())})
    with pytest.raises(InputError, match=r"cut\.avi: expected 40 frames .* truncated or corrupt"):
        r.redact_file(src, dst)
    assert not dst.exists()
    assert not (dst.parent.exists() and any(dst.parent.iterdir()))
    assert r.redact_file(whole, tmp_path / "out" / "whole.avi").frames == 40


def test_run_reports_video_progress_per_frame(tmp_path: Path) -> None:
    """The CLI's progress bar advances per frame through the callback handed to run()."""
    src = tmp_path / "clip.avi"
    make_video(src, frames=12)
    seen: list[tuple[str, int, int]] = []
    r = Redactor(RedactOptions(what=("face",), verify=False), detectors={"face": SquareDetector(set())})
    (res,) = list(
        r.run([(src, tmp_path / "out.avi")], jobs=1, on_frame=lambda s, d, n: seen.append((s.name, d, n)))
    )
    assert res.ok and res.frames == 12
    assert [d for _, d, _ in seen] == list(range(1, 13)) and {s for s, _, _ in seen} == {"clip.avi"}


def _first_pts(ff: str, path: Path, stream: str) -> float:
    """Presentation time of a stream's first packets, as the file stores it (no shifting)."""
    import subprocess

    proc = subprocess.run(
        [ff, "-v", "error", "-copyts", "-i", str(path), "-map", f"0:{stream}:0", "-c", "copy", "-frames", "8"]
        + ["-f", "framecrc", "-"],
        capture_output=True,
        check=True,
    )
    lines = proc.stdout.decode().splitlines()
    num, den = next(line for line in lines if line.startswith("#tb 0:")).split(":")[1].strip().split("/")
    pts = [int(line.split(",")[2]) for line in lines if line.startswith("0,")]
    return min(pts) * int(num) / int(den)


@pytest.mark.skipif(ffmpeg_exe() is None, reason="imageio-ffmpeg binary not available")
def test_kept_audio_stays_in_sync_and_video_is_h264_without_metadata(tmp_path: Path) -> None:
    import subprocess

    from veilcv.core.metadata import check_file

    ff = ffmpeg_exe()
    assert ff is not None
    plain = tmp_path / "plain.avi"
    make_video(plain, frames=20)
    tone = tmp_path / "tone.m4a"
    subprocess.run(
        [ff, "-v", "error", "-f", "lavfi", "-i", "sine=duration=2", "-c:a", "aac", str(tone)], check=True
    )
    # As a phone leaves it: first video frame at 0.8 s, audio from 0.021 s, location and a title.
    src = tmp_path / "late.mp4"
    subprocess.run(
        [ff, "-v", "error", "-itsoffset", "0.8", "-i", str(plain), "-itsoffset", "0.021", "-i", str(tone)]
        + ["-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-c:a", "copy"]
        + ["-metadata", "location=+48.85+002.35/", "-metadata", "title=secret-title", str(src)],
        check=True,
    )
    v_in, a_in = _first_pts(ff, src, "v"), _first_pts(ff, src, "a")
    assert v_in - a_in > 0.7
    det = {"face": SquareDetector(set())}
    dst = tmp_path / "out" / "late.mp4"
    res = Redactor(RedactOptions(what=("face",), keep_audio=True), detectors=det).redact_file(src, dst)
    assert res.ok and res.audio == "kept"
    v_out, a_out = _first_pts(ff, dst, "v"), _first_pts(ff, dst, "a")
    assert abs((v_out - a_out) - (v_in - a_in)) < 0.05  # the offset between the streams is kept
    assert abs(v_out - v_in) < 0.05
    info = subprocess.run([ff, "-hide_banner", "-i", str(dst)], capture_output=True).stderr
    assert b"Video: h264" in info
    assert check_file(dst).clean  # container metadata: none (checked again here)
    assert b"secret-title" not in dst.read_bytes() and b"x264" not in dst.read_bytes()  # no encoder note


@pytest.mark.skipif(ffmpeg_exe() is None, reason="imageio-ffmpeg binary not available")
def test_output_that_still_carries_metadata_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    import veilcv.core.video as video
    from veilcv.errors import RedactionError

    def leaky_remux(
        ffmpeg: str, raw: Path, audio_src: object, out: Path, src: Path, start: float = 0.0
    ) -> None:
        cmd = [
            ffmpeg,
            "-v",
            "error",
            "-y",
            "-i",
            str(raw),
            "-c",
            "copy",
            "-metadata",
            "location=+48.85+002.35/",
        ]
        subprocess.run([*cmd, "-f", "mp4", str(out)], check=True)

    monkeypatch.setattr(video, "_remux", leaky_remux)
    src = tmp_path / "clip.avi"
    make_video(src)
    dst = tmp_path / "out" / "clip.mp4"
    with pytest.raises(RedactionError, match="still carries metadata"):
        Redactor(RedactOptions(what=("face",)), detectors={"face": SquareDetector(set())}).redact_file(
            src, dst
        )
    assert not dst.exists() and not list(dst.parent.glob("*"))


@pytest.mark.shared_data
@pytest.mark.skipif(ffmpeg_exe() is None, reason="imageio-ffmpeg binary not available")
def test_real_clip_with_late_video_keeps_its_audio_in_sync(shared_data: Path, tmp_path: Path) -> None:
    """The EgoBlur plate clip: first video frame at 0.8 s, audio from 0.021 s (the reported drift)."""
    from veilcv.core.metadata import check_file

    src = shared_data / "video_smoke_egoblur" / "gen2" / "test_lp_video.mp4"
    if not src.exists():
        pytest.skip("video_smoke_egoblur not present")
    ff = ffmpeg_exe()
    assert ff is not None
    dst = tmp_path / "lp.mp4"
    opts = RedactOptions(what=("face",), keep_audio=True, verify=False)
    res = Redactor(opts, detectors={"face": SquareDetector(set())}).redact_file(src, dst)
    count = int(cv2.VideoCapture(str(src)).get(cv2.CAP_PROP_FRAME_COUNT))
    assert res.ok and res.audio == "kept" and res.frames == count > 0
    v_in, a_in = _first_pts(ff, src, "v"), _first_pts(ff, src, "a")
    v_out, a_out = _first_pts(ff, dst, "v"), _first_pts(ff, dst, "a")
    assert v_in - a_in > 0.7 and abs((v_out - a_out) - (v_in - a_in)) < 0.05
    assert check_file(dst).clean
