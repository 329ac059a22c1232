"""`veil store serve` stops cleanly on Ctrl-C, as its help says to stop it (a real process and signal)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from store.helpers import POLICY
from veilcv.cli.main import main


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a child process")
def test_ctrl_c_stops_the_server_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("VEIL_MASTER_KEY", "VEIL_MASTER_KEY_FILE", "VEIL_STORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "veil.yaml").write_text(
        yaml.safe_dump({"version": 1, "retention": POLICY["retention"], "storage": POLICY["storage"]})
    )
    common = ["--store", str(tmp_path / "vault"), "--key-file", str(tmp_path / "master.key")]
    assert main(["store", "keygen", "-o", str(tmp_path / "master.key")]) == 0
    assert main(["store", "init", *common]) == 0
    (tmp_path / "a.jpg").write_bytes(b"pretend-redacted-jpeg")
    assert main(["store", "put", "redacted/a.jpg", str(tmp_path / "a.jpg"), *common]) == 0
    capsys.readouterr()
    assert main(["store", "sign", "redacted/a.jpg", "--ttl", "300", *common]) == 0
    token = capsys.readouterr().out.split()[0]

    env = {k: v for k, v in os.environ.items() if not k.startswith("VEIL_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "veilcv", "store", "serve", "--port", "0", *common],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()  # blocks until the server listens (or the process ends)
        found = re.search(r"on (http://127\.0\.0\.1:\d+)/o/", first)
        assert found, first + proc.stderr.read()
        url = f"{found.group(1)}/o/redacted/a.jpg?token={token}"
        with urllib.request.urlopen(url, timeout=30) as resp:
            assert resp.read() == b"pretend-redacted-jpeg"
        proc.send_signal(signal.SIGINT)
        out, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, rest
    assert rest.splitlines() == [f"stopped serving {tmp_path / 'vault'}"]
    assert out == ""
    # the store was closed cleanly: it opens again and the served access is in its audit log
    assert main(["store", "audit", "verify", *common]) == 0
