"""What `veil store ls` and `veil store sign` print: whole keys a user can copy, and a URL that works."""

from __future__ import annotations

import hashlib
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml
from store.helpers import POLICY

from veilcv.cli.main import main
from veilcv.policies import load_policy
from veilcv.store import Store, from_policy, load_master_key
from veilcv.store.server import StoreServer

KEY = f"redacted/ab/{hashlib.sha256(b'photo').hexdigest()}.jpg"  # as long as ingest's keys


@pytest.fixture
def common(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    for name in ("VEIL_MASTER_KEY", "VEIL_MASTER_KEY_FILE", "VEIL_STORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "40")  # a narrow terminal: a table would wrap the key
    policy = tmp_path / "veil.yaml"
    policy.write_text(
        yaml.safe_dump({"version": 1, "retention": POLICY["retention"], "storage": POLICY["storage"]})
    )
    key, store = tmp_path / "master.key", tmp_path / "vault"
    args = ["--store", str(store), "--key-file", str(key), "--policy", str(policy)]
    assert main(["store", "keygen", "-o", str(key)]) == 0
    assert main(["store", "init", *args]) == 0
    (tmp_path / "a.jpg").write_bytes(b"pretend-redacted-jpeg" * 10)
    assert main(["store", "put", KEY, str(tmp_path / "a.jpg"), "--subject", "S9", *args]) == 0
    assert main(["store", "put", "redacted/b.jpg", str(tmp_path / "a.jpg"), *args]) == 0
    return args


def test_ls_prints_every_key_whole_on_its_own_line(common: list[str], capsys) -> None:
    capsys.readouterr()
    assert main(["store", "ls", *common]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["key", "bytes", "expires", "(UTC)", "subject"]
    assert [line.split()[0] for line in lines[1:]] == [KEY, "redacted/b.jpg"]
    assert lines[1].endswith("  S9") and lines[1].split()[1] == "210"
    assert not any(ch in "".join(lines) for ch in "│┃━─")  # no table borders to copy along


def test_sign_prints_the_token_and_the_url_that_redeems_it(common: list[str], tmp_path: Path, capsys) -> None:
    capsys.readouterr()
    assert main(["store", "sign", KEY, *common]) == 0
    out, err = capsys.readouterr()
    token = out.strip()
    assert out == token + "\n"  # stdout stays the bare token, for scripts
    quoted = urllib.parse.quote(token)
    assert err == f"url: http://127.0.0.1:8731/o/{KEY}?token={quoted}\n"  # serve's default place

    policy = from_policy(load_policy(tmp_path / "veil.yaml"))
    with Store.open(tmp_path / "vault", load_master_key(tmp_path / "master.key"), policy) as st:
        server = StoreServer(st, "127.0.0.1", 0).start()
        try:
            assert main(["store", "sign", KEY, "--port", str(server.port), *common]) == 0
            url = capsys.readouterr().err.removeprefix("url: ").strip()
            with urllib.request.urlopen(url, timeout=10) as response:
                assert response.read() == b"pretend-redacted-jpeg" * 10
        finally:
            server.stop()


def test_sign_url_for_an_ipv6_loopback_and_a_refused_host(common: list[str], capsys) -> None:
    capsys.readouterr()
    assert main(["store", "sign", "redacted/b.jpg", "--host", "::1", "--port", "8080", *common]) == 0
    assert capsys.readouterr().err.startswith("url: http://[::1]:8080/o/redacted/b.jpg?token=")
    assert main(["store", "sign", "redacted/b.jpg", "--host", "10.0.0.7", *common]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("veil: error: --host: expected a loopback address, got 10.0.0.7")
    assert main(["store", "sign", "redacted/b.jpg", "--port", "0", *common]) == 2
    assert "--port: expected 1-65535" in capsys.readouterr().err
