"""`veil redact --metrics`: a long run's Prometheus endpoint, scraped over loopback while it runs."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import veilcv.core.detection as detection
from veilcv.cli.main import main
from veilcv.core.detection.types import Detections
from veilcv.core.media import encode_image

BOX = (20, 20, 60, 60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Scraping:
    """Finds BOX in every image; at its fifth call (file 3's first pass, files 1 and 2 done, one
    jobs thread) it scrapes the run's metrics endpoint, as Prometheus would mid-run."""

    info = {"name": "injected", "sha256": "0" * 64}

    def __init__(self, url: str) -> None:
        self.url, self.calls, self.scraped = url, 0, ""

    def detect(self, img: np.ndarray) -> Detections:
        self.calls += 1
        if self.calls == 5:
            with urllib.request.urlopen(self.url, timeout=10) as resp:
                self.scraped = resp.read().decode()
        return Detections(np.array([BOX], np.float32), np.array([0.9], np.float32), ("face",))


def test_a_run_serves_its_metrics_while_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    det = Scraping(f"http://127.0.0.1:{port}/metrics")
    monkeypatch.setattr(detection, "load_detector", lambda *a, **k: det)
    src = tmp_path / "in"
    src.mkdir()
    rng = np.random.default_rng(3)
    for i in range(3):
        (src / f"p{i}.png").write_bytes(encode_image(rng.integers(64, 255, (120, 160, 3), np.uint8), ".png"))
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not a png")
    args = ["redact", str(src), "-o", str(tmp_path / "out"), "--what", "faces", "--jobs", "1"]
    assert main([*args, "--metrics", f"127.0.0.1:{port}"]) == 2  # the broken file fails the run
    assert f"veil: metrics at http://127.0.0.1:{port}/metrics" in capsys.readouterr().err
    text = det.scraped
    done = int(float(text.split('veil_redact_files_total{kind="image",outcome="redacted"} ')[1].split()[0]))
    assert done >= 2  # files finished before the scrape, counted while the run went on
    assert "veil_redact_detector_seconds_count" in text and "veil_redact_file_seconds_bucket" in text
    # the endpoint closes with the run
    with pytest.raises(OSError):
        urllib.request.urlopen(det.url, timeout=2)


def test_metrics_flag_is_checked_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["redact", str(tmp_path), "-o", str(out), "--metrics", "nine"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("veil: error: --metrics: expected [HOST]:PORT")
    assert main(["redact", str(tmp_path), "-o", str(out), "--metrics", ":0", "--engine", "ray"]) == 2
    assert "--metrics: the local engine's" in capsys.readouterr().err
    assert not out.exists()


def test_the_metrics_count_outcomes_and_residuals() -> None:
    from veilcv.telemetry.metrics import RedactMetrics

    m = RedactMetrics()
    m.file("image", True, 0, {"decode": 2.0, "detect": 30.0, "write": 1.0})
    m.file("image", False, 2, {"decode": 2.0, "detect": 40.0})
    m.file("video", True, 1, {"detect": 900.0})
    text = m.text()
    assert 'veil_redact_files_total{kind="image",outcome="redacted"} 1.0' in text
    assert 'veil_redact_files_total{kind="image",outcome="failed"} 1.0' in text
    assert 'veil_redact_files_total{kind="video",outcome="redacted"} 1.0' in text
    assert "veil_redact_residual_faces_total 3.0" in text
    assert "veil_redact_detector_seconds_count 3.0" in text
