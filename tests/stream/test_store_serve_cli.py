"""`veil store serve --metrics`: a real process, scraped over loopback, stopped with Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from store.helpers import POLICY

from veilcv.cli.main import main


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process")
def test_store_serve_metrics_endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("VEIL_MASTER_KEY", "VEIL_MASTER_KEY_FILE", "VEIL_STORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "veil.yaml").write_text(
        yaml.safe_dump({"version": 1, "retention": POLICY["retention"], "storage": POLICY["storage"]})
    )
    common = ["--store", str(tmp_path / "vault"), "--key-file", str(tmp_path / "master.key")]
    assert main(["store", "keygen", "-o", str(tmp_path / "master.key")]) == 0
    assert main(["store", "init", *common]) == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("VEIL_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "veilcv", "store", "serve", "--port", "0", "--metrics", "127.0.0.1:0",
         *common],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        lines = [proc.stderr.readline(), proc.stderr.readline()]  # the object URL, then the metrics URL
        store_url = re.search(r"on (http://127\.0\.0\.1:\d+)/o/", lines[0])
        metrics_url = re.search(r"metrics at (http://127\.0\.0\.1:\d+/metrics)", lines[1])
        assert store_url and metrics_url, lines
        for token in ("", "v1.forged.token"):
            with pytest.raises(urllib.error.HTTPError):
                urllib.request.urlopen(f"{store_url[1]}/o/redacted/a.jpg?token={token}", timeout=30)
        with urllib.request.urlopen(metrics_url[1], timeout=30) as resp:
            text = resp.read().decode()
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    samples = {
        (s.name, tuple(s.labels.values())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("veil_store_refused_requests_total", ("missing_token",))] == 1
    assert samples[("veil_store_refused_requests_total", ("malformed_token",))] == 1
    assert samples[("veil_store_objects_past_retention", ())] == 0
    assert proc.returncode == 0, rest
