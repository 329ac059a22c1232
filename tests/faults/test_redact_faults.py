"""Fault injection for `veil redact`: in every case no unredacted or partial output exists afterwards.

Faults: a detector that raises (images and video), a corrupted model file, a full disk (a patched
write and, where the test may mount one, a real tiny tmpfs), and `kill -9` of a real `veil redact`.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from veilcv.cli.main import main
from veilcv.core.detection.types import Detections
from veilcv.core.media import decode_image, encode_image

skimage_data = pytest.importorskip("skimage.data")
FACE = (185, 70, 265, 170)
VEIL = Path(sys.executable).with_name("veil")


def astronaut() -> np.ndarray:
    return np.ascontiguousarray(skimage_data.astronaut()[:, :, ::-1])


def covered(path: Path) -> bool:
    x0, y0, x1, y1 = FACE
    return int(decode_image(path.read_bytes())[y0:y1, x0:x1, :3].max()) <= 16


def visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def hidden(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob(".*") if p.is_file())


def photos(folder: Path, n: int, suffix: str = ".jpg") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    data = encode_image(astronaut(), suffix)
    paths = [folder / f"p{i:03d}{suffix}" for i in range(n)]
    for p in paths:
        p.write_bytes(data)
    return paths


class FaceAtKnownPlace:
    """Finds the astronaut's face where it is; raises on the images (calls) listed in ``fail_on``."""

    info = {"name": "fault-injection", "sha256": "0" * 64}

    def __init__(self, fail_on: set[int]) -> None:
        self.fail_on, self.calls = fail_on, 0

    def detect(self, image: np.ndarray) -> Detections:
        self.calls += 1
        if self.calls in self.fail_on:
            raise RuntimeError("injected detector fault")
        return Detections(np.array([FACE], np.float32), np.array([0.9], np.float32), ("face",))


def test_detector_raising_fails_that_file_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import veilcv.core.detection as detection

    det = FaceAtKnownPlace(fail_on={3})  # with verification: calls 1-2 image one, 3 fails image two
    monkeypatch.setattr(detection, "load_detector", lambda *a, **k: det)
    photos(tmp_path / "in", 3, ".png")
    rc = main(["redact", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--what", "faces", "-j", "1"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "injected detector fault" in err and "p001.png" in err and "Traceback" not in err
    assert [p.name for p in visible(tmp_path / "out")] == ["p000.png", "p002.png"]
    assert all(covered(p) for p in visible(tmp_path / "out")) and not hidden(tmp_path / "out")


def test_detector_raising_mid_video_leaves_no_video(tmp_path: Path) -> None:
    from veilcv.core.pipeline import RedactOptions, Redactor
    from veilcv.errors import DetectionError

    src = tmp_path / "clip.avi"
    w = cv2.VideoWriter(str(src), cv2.VideoWriter_fourcc(*"MJPG"), 10, (512, 512))
    for _ in range(12):
        w.write(astronaut())
    w.release()
    r = Redactor(RedactOptions(what=("face",), carry=2), detectors={"face": FaceAtKnownPlace(fail_on={15})})
    with pytest.raises(DetectionError, match="injected detector fault"):
        r.redact_file(src, tmp_path / "out" / "clip.mp4")
    assert visible(tmp_path / "out") == [] and hidden(tmp_path / "out") == []


def test_corrupted_model_file_refuses_before_any_output(tmp_path: Path) -> None:
    from veilcv.core.detection import registry
    from veilcv.errors import ModelError

    try:
        real = registry.model_dir()
        spec = registry.load_registry().get("face")
        model = real / spec.file
    except ModelError as exc:
        pytest.skip(str(exc))
    if not model.is_file() or not VEIL.exists():
        pytest.skip("face model not provisioned or veil not installed")
    cache = tmp_path / "models"
    cache.mkdir()
    data = bytearray(model.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the middle of the weights
    (cache / spec.file).write_bytes(bytes(data))
    photos(tmp_path / "in", 2)
    env = {**os.environ, "VEILCV_MODEL_DIR": str(cache)}
    proc = subprocess.run(
        [str(VEIL), "redact", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--what", "faces"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("veil: error:") and "sha256" in lines[0].lower(), (
        proc.stderr
    )
    assert not (tmp_path / "out").exists()


def test_disk_full_on_write_patched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import veilcv.core.detection as detection

    monkeypatch.setattr(detection, "load_detector", lambda *a, **k: FaceAtKnownPlace(set()))
    real_write = Path.write_bytes
    state = {"n": 0}

    def write_bytes(self: Path, data: bytes) -> int:
        if (tmp_path / "out") in self.parents:
            state["n"] += 1
            if state["n"] == 2:
                real_write(self, data[: len(data) // 2])  # a partial write, then the disk is full
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    photos(tmp_path / "in", 3)
    rc = main(["redact", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--what", "faces", "-j", "1"])
    assert rc == 2
    assert "No space left on device" in capsys.readouterr().err
    out = visible(tmp_path / "out")
    assert len(out) == 2 and all(covered(p) for p in out) and hidden(tmp_path / "out") == []


@pytest.fixture
def tiny_disk(tmp_path: Path):
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_disk_full_on_a_real_tiny_filesystem(
    tmp_path: Path, tiny_disk: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import veilcv.core.detection as detection

    monkeypatch.setattr(detection, "load_detector", lambda *a, **k: FaceAtKnownPlace(set()))
    photos(tmp_path / "in", 6, ".png")  # ~450 KB each as PNG: the 256 KB disk takes none of them
    photos(tmp_path / "in", 2, ".jpg")  # ~100 KB each as JPEG: these fit
    rc = main(["redact", str(tmp_path / "in"), "-o", str(tiny_disk), "--what", "faces", "-j", "1", "-q"])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.count("No space left on device") == 6
    out = visible(tiny_disk)
    assert sorted(p.name for p in out) == ["p000.jpg", "p001.jpg"]
    assert all(covered(p) for p in out) and hidden(tiny_disk) == []


def test_kill_9_mid_run_leaves_only_complete_redacted_files(tmp_path: Path) -> None:
    if not VEIL.exists():
        pytest.skip("veil console script not installed in this environment")
    from veilcv.core.detection import load_detector
    from veilcv.errors import ModelError

    try:
        load_detector("face")
    except ModelError as exc:
        pytest.skip(f"face model unavailable: {exc}")
    photos(tmp_path / "in", 16)
    out = tmp_path / "out"
    cmd = [str(VEIL), "redact", str(tmp_path / "in"), "-o", str(out), "--what", "faces", "-j", "2", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None and not visible(out):
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    done = visible(out)
    assert 1 <= len(done) < 16
    for p in done:  # every visible file is a complete, redacted image
        assert covered(p), p
    for p in hidden(out):  # leftovers of the kill are only our temp files, never a final name
        assert ".tmp" in p.name and p.name.startswith(".p")
    # A rerun completes the job and clears the temp files the killed run left.
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert len(visible(out)) == 16 and hidden(out) == []


def test_silently_corrupted_write_is_caught_before_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from veilcv.core.pipeline import RedactOptions, Redactor
    from veilcv.errors import RedactionError

    real_write = Path.write_bytes

    def flaky_write(self: Path, data: bytes) -> int:
        if (tmp_path / "out") in self.parents:
            data = data[:100] + bytes(len(data) - 100)  # a device that returns success but stores zeros
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", flaky_write)
    (src,) = photos(tmp_path / "in", 1)
    r = Redactor(RedactOptions(what=("face",)), detectors={"face": FaceAtKnownPlace(set())})
    with pytest.raises(RedactionError, match="differ from the checked ones"):
        r.redact_file(src, tmp_path / "out" / src.name)
    assert visible(tmp_path / "out") == [] and hidden(tmp_path / "out") == []
