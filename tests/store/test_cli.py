"""`veil store ...` end to end through the CLI entry point."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest
import yaml

from store.helpers import POLICY
from veilcv.cli.main import main


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    for name in ("VEIL_MASTER_KEY", "VEIL_MASTER_KEY_FILE", "VEIL_STORE"):
        monkeypatch.delenv(name, raising=False)
    keys = tmp_path / "keys"
    keys.mkdir()
    policy = tmp_path / "veil.yaml"
    policy.write_text(
        yaml.safe_dump({"version": 1, "retention": POLICY["retention"], "storage": POLICY["storage"]})
    )
    monkeypatch.chdir(tmp_path)
    return {"store": tmp_path / "vault", "key": keys / "master.key", "policy": policy, "tmp": tmp_path}


def test_full_cycle(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    s, k = str(env["store"]), str(env["key"])
    assert main(["store", "keygen", "-o", k]) == 0
    assert os.stat(k).st_mode & 0o777 == 0o600
    assert main(["store", "keygen", "-o", k]) == 2  # never overwrites a key
    assert main(["store", "init", "--store", s, "--key-file", k]) == 0
    src = env["tmp"] / "a.jpg"
    src.write_bytes(b"pretend-redacted-jpeg" * 10)
    common = ["--store", s, "--key-file", k]
    assert main(["store", "put", "redacted/a.jpg", str(src), "--subject", "S9", *common]) == 0
    assert main(["store", "get", "redacted/a.jpg", "-o", str(env["tmp"] / "back.jpg"), *common]) == 0
    assert (env["tmp"] / "back.jpg").read_bytes() == src.read_bytes()
    capsys.readouterr()
    assert main(["store", "ls", "--json", *common]) == 0
    assert [o["key"] for o in json.loads(capsys.readouterr().out)] == ["redacted/a.jpg"]
    assert main(["store", "sign", "redacted/a.jpg", "--ttl", "300", *common]) == 0
    assert capsys.readouterr().out.startswith("v2.")
    assert main(["store", "sign", "redacted/a.jpg", "--ttl", "100000", *common]) == 2
    assert "expected at most 600 s" in capsys.readouterr().err
    assert main(["store", "purge", "--dry-run", *common]) == 0
    assert "0 object(s) due" in capsys.readouterr().out
    assert main(["store", "export", "--subject", "S9", "-o", str(env["tmp"] / "s9.zip"), *common]) == 0
    assert zipfile.ZipFile(env["tmp"] / "s9.zip").read("redacted/a.jpg") == src.read_bytes()
    capsys.readouterr()
    assert main(["store", "audit", "head", *common]) == 0
    head = capsys.readouterr().out.strip()
    receipt = env["tmp"] / "receipt.json"
    assert main(["store", "delete", "--subject", "S9", "--receipt", str(receipt), *common]) == 0
    assert json.loads(receipt.read_text())["keys"] == ["redacted/a.jpg"]
    assert main(["store", "audit", "verify", "--expect-head", head, *common]) == 0
    assert "OK" in capsys.readouterr().out
    new = env["tmp"] / "keys" / "new.key"
    assert main(["store", "keygen", "-o", str(new)]) == 0
    assert main(["store", "rotate-key", "--new-key-file", str(new), *common]) == 0
    assert main(["store", "fsck", "--store", s, "--key-file", str(new)]) == 0
    assert main(["store", "fsck", *common]) == 2  # the old key no longer opens the store
    capsys.readouterr()
    assert main(["store", "audit", "log", "--limit", "3", "--store", s, "--key-file", str(new)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 3 and lines[-1]["action"] == "rotate-key"


def test_audit_verify_fails_with_exit_1_on_tampering(env: dict[str, Path], capsys) -> None:
    s, k = str(env["store"]), str(env["key"])
    main(["store", "keygen", "-o", k])
    main(["store", "init", "--store", s, "--key-file", k])
    (env["store"] / "audit.anchor").unlink()
    assert main(["store", "audit", "verify", "--store", s, "--key-file", k]) == 1
    assert "audit anchor is missing" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["store", "ls", "--store", "{store}"],
            "no master key: set VEIL_MASTER_KEY_FILE (a key file) or VEIL_MASTER_KEY",
        ),
        (["store", "keygen", "-o", "{key}"], "already exists; refusing to overwrite"),
        (["store", "ls", "--store", "{tmp}/nowhere", "--key-file", "{key}"], "expected a veilcv store"),
        (
            ["store", "get", "../x", "-o", "{tmp}/o", "--store", "{store}", "--key-file", "{key}"],
            "object key ../x",
        ),
        (
            ["store", "put", "redacted/x", "{tmp}/missing.jpg", "--store", "{store}", "--key-file", "{key}"],
            "missing.jpg: cannot read",
        ),
        (
            ["store", "get", "redacted/none", "-o", "{tmp}/o", "--store", "{store}", "--key-file", "{key}"],
            "no such object",
        ),
        (
            ["store", "purge", "--role", "reader", "--store", "{store}", "--key-file", "{key}"],
            "may not delete",
        ),
        (
            ["store", "audit", "verify", "--expect-head", "7", "--store", "{store}", "--key-file", "{key}"],
            "expected SEQ:HASH",
        ),
        (["store", "serve", "--host", "0.0.0.0", "--store", "{store}", "--key-file", "{key}"], "loopback"),
        (
            ["store", "rotate-key", "--new-key-file", "{key}", "--store", "{store}", "--key-file", "{key}"],
            "expected a new master key, got the store's current key",
        ),
        (["store", "delete", "--subject", "a b", "--store", "{store}", "--key-file", "{key}"], "--subject"),
        (
            ["store", "ls", "--policy", "{tmp}/nope.yaml", "--store", "{store}", "--key-file", "{key}"],
            "nope.yaml",
        ),
    ],
)
def test_bad_input_gets_one_line_and_exit_2(env, capsys, args: list[str], message: str) -> None:
    main(["store", "keygen", "-o", str(env["key"])])
    main(["store", "init", "--store", str(env["store"]), "--key-file", str(env["key"])])
    before = sorted(p.name for p in env["tmp"].rglob("*"))
    capsys.readouterr()
    subst = {"store": str(env["store"]), "tmp": str(env["tmp"]), "key": str(env["key"])}
    assert main([a.format(**subst) for a in args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("veil: error: ") and err.count("\n") == 1 and message in err, err
    assert "Traceback" not in err
    after = sorted(p.name for p in env["tmp"].rglob("*"))
    assert [p for p in after if p not in before and not p.startswith("catalog")] == []  # nothing half-written


def test_serve_command_in_its_own_process(env: dict[str, Path]) -> None:
    import re
    import signal
    import subprocess
    import sys
    import urllib.request

    from store.helpers import REPO
    from veilcv.store import Store, from_policy, load_master_key
    from veilcv.store.access import sign

    s, k = str(env["store"]), str(env["key"])
    main(["store", "keygen", "-o", k])
    main(["store", "init", "--store", s, "--key-file", k])
    with Store.open(env["store"], load_master_key(k, env={}), from_policy(POLICY)) as st:
        st.put("redacted/a.jpg", b"served bytes", role="writer", actor="t")
        token = sign(st, "redacted/a.jpg", role="reader", ttl=60, actor="t")
    cmd = [sys.executable, "-m", "veilcv", "store", "serve", "--port", "0", "--store", s, "--key-file", k]
    proc = subprocess.Popen(cmd, cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        line = proc.stderr.readline().decode()
        port = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))
        url = f"http://127.0.0.1:{port}/o/redacted/a.jpg?token={token}"
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.read() == b"served bytes"
        with pytest.raises(urllib.error.HTTPError, match="403"):
            urllib.request.urlopen(url.replace("token=v2.", "token=v2.x"), timeout=10)
    finally:
        proc.send_signal(signal.SIGINT)
        rest = proc.communicate(timeout=30)[1].decode()
    assert proc.returncode == 0 and rest == f"stopped serving {s}\n"  # Ctrl-C is how it is stopped
    with Store.open(env["store"], load_master_key(k, env={}), from_policy(POLICY)) as st:
        outcomes = [r[0] for r in st._conn().execute("SELECT outcome FROM audit WHERE action = 'serve'")]
        assert outcomes == ["ok", "denied"] and st.verify_audit().ok


def test_unwritable_output_is_one_line_and_loses_nothing(env: dict[str, Path], capsys) -> None:
    s, k = str(env["store"]), str(env["key"])
    main(["store", "keygen", "-o", k])
    main(["store", "init", "--store", s, "--key-file", k])
    src = env["tmp"] / "a.jpg"
    src.write_bytes(b"bytes")
    assert main(["store", "put", "redacted/a.jpg", str(src), "--store", s, "--key-file", k]) == 0
    capsys.readouterr()
    target = env["tmp"] / "is_a_folder"
    target.mkdir()
    assert main(["store", "get", "redacted/a.jpg", "-o", str(target), "--store", s, "--key-file", k]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"veil: error: {target}: cannot write") and err.count("\n") == 1
    assert list(env["tmp"].glob(".is_a_folder*")) == [] and list(target.iterdir()) == []


@pytest.mark.parametrize(
    "command",
    [
        ["store", c]
        for c in (
            "keygen",
            "init",
            "put",
            "get",
            "ls",
            "sign",
            "serve",
            "purge",
            "export",
            "delete",
            "rotate-key",
            "fsck",
        )
    ]
    + [["store", "audit", c] for c in ("verify", "head", "log")]
    + [["store"], ["store", "audit"]]  # the groups too: `veil store --help` is where a user starts
    + [["ingest"]],
)
def test_every_command_has_help_with_an_example(command: list[str], capsys) -> None:
    assert main([*command, "--help"]) == 0
    assert "Example: veil " + " ".join(command) in " ".join(capsys.readouterr().out.split())


def test_keygen_accepts_output_as_the_readme_writes_it(env: dict[str, Path]) -> None:
    assert main(["store", "keygen", "--output", str(env["key"])]) == 0
    assert os.stat(env["key"]).st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (
            "empty-catalog",
            ["store", "ls", "--store", "{tmp}/bad"],
            "expected a veilcv store catalog (SQLite), got an empty file",
        ),
        ("junk-catalog", ["store", "ls", "--store", "{tmp}/bad"], "got other data"),
        ("sqlite-catalog", ["store", "ls", "--store", "{tmp}/bad"], "got another SQLite database"),
        ("", ["store", "ls", "--store", "{tmp}/a.txt"], "expected a veilcv store folder, got a file"),
        ("", ["store", "ls", "--store", "{tmp}/nowhere"], "use `veil store init --store"),
        (
            "junk-key",
            ["store", "ls", "--store", "{store}", "--key-file", "{tmp}/keys/junk.key"],
            "got binary data",
        ),
        (
            "",
            ["store", "ls", "--store", "{store}", "--key-file", "{tmp}/keys"],
            "expected a key file, got a folder",
        ),
        (
            "",
            ["store", "get", "redacted/a.jpg", "-o", "{tmp}/a.txt/x", "--store", "{store}"],
            "expected a folder at",
        ),
        ("", ["store", "get", "redacted/a.jpg", "-o", "{tmp}/keys", "--store", "{store}"], "got a folder"),
        ("", ["store", "keygen", "--output", "{tmp}/a.txt/k.key"], "expected a folder at"),
    ],
)
def test_bad_store_folders_keys_and_outputs(
    env, capsys, monkeypatch, setup: str, args: list[str], message: str
) -> None:
    import sqlite3

    main(["store", "keygen", "-o", str(env["key"])])
    main(["store", "init", "--store", str(env["store"]), "--key-file", str(env["key"])])
    (env["tmp"] / "a.txt").write_text("a file, not a folder\n")
    src = env["tmp"] / "a.jpg"
    src.write_bytes(b"x" * 10)
    monkeypatch.setenv("VEIL_MASTER_KEY_FILE", str(env["key"]))
    assert main(["store", "put", "redacted/a.jpg", str(src), "--store", str(env["store"])]) == 0
    bad = env["tmp"] / "bad"
    bad.mkdir()
    if setup == "empty-catalog":
        (bad / "catalog.sqlite").write_bytes(b"")
    elif setup == "junk-catalog":
        (bad / "catalog.sqlite").write_bytes(os.urandom(4096))
    elif setup == "sqlite-catalog":
        sqlite3.connect(bad / "catalog.sqlite").execute("CREATE TABLE t (x)").connection.close()
    elif setup == "junk-key":
        (env["tmp"] / "keys" / "junk.key").write_bytes(b"\xff\xfe" + os.urandom(30))
        os.chmod(env["tmp"] / "keys" / "junk.key", 0o600)
    before = sorted(str(p) for p in env["tmp"].rglob("*"))
    capsys.readouterr()
    assert main([a.format(store=env["store"], tmp=env["tmp"]) for a in args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("veil: error: ") and err.count("\n") == 1 and message in err, err
    assert sorted(str(p) for p in env["tmp"].rglob("*")) == before  # nothing created, not even lock files


def test_delete_refuses_an_unwritable_receipt_before_deleting(env: dict[str, Path], capsys) -> None:
    s, k = str(env["store"]), str(env["key"])
    main(["store", "keygen", "-o", k])
    main(["store", "init", "--store", s, "--key-file", k])
    src = env["tmp"] / "a.jpg"
    src.write_bytes(b"x" * 10)
    common = ["--store", s, "--key-file", k]
    assert main(["store", "put", "redacted/a.jpg", str(src), "--subject", "S1", *common]) == 0
    (env["tmp"] / "a.txt").write_text("a file, not a folder\n")
    capsys.readouterr()
    receipt = str(env["tmp"] / "a.txt" / "r.json")
    assert main(["store", "delete", "--subject", "S1", "--receipt", receipt, *common]) == 2
    assert "expected a folder at" in capsys.readouterr().err
    assert main(["store", "ls", "--json", *common]) == 0
    assert [o["key"] for o in json.loads(capsys.readouterr().out)] == ["redacted/a.jpg"]  # still there


def test_ls_of_a_prefix_the_role_cannot_read_says_so(env: dict[str, Path], capsys) -> None:
    s, k = str(env["store"]), str(env["key"])
    main(["store", "keygen", "-o", k])
    main(["store", "init", "--store", s, "--key-file", k])
    src = env["tmp"] / "a.jpg"
    src.write_bytes(b"x" * 10)
    assert main(["store", "put", "raw/a.jpg", str(src), "--store", s, "--key-file", k]) == 0
    capsys.readouterr()
    assert main(["store", "ls", "raw/", "--json", "--store", s, "--key-file", k]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == [] and "note: role reader reads only redacted/" in captured.err
    assert main(["store", "ls", "raw/", "--json", "--role", "admin", "--store", s, "--key-file", k]) == 0
    captured = capsys.readouterr()
    assert [o["key"] for o in json.loads(captured.out)] == ["raw/a.jpg"] and captured.err == ""
    assert main(["store", "put", "raw/b.jpg", str(env["tmp"]), "--store", s, "--key-file", k]) == 2
    assert "expected a file to store, got a folder" in capsys.readouterr().err


def test_purge_with_nothing_due_prints_no_empty_table(env: dict[str, Path], capsys) -> None:
    s, k = str(env["store"]), str(env["key"])
    main(["store", "keygen", "-o", k])
    main(["store", "init", "--store", s, "--key-file", k])
    capsys.readouterr()
    assert main(["store", "purge", "--dry-run", "--store", s, "--key-file", k]) == 0
    out = capsys.readouterr().out
    assert "would purge" not in out and "0 object(s) due" in out


def test_owned_cli_modules_import_nothing_heavy() -> None:
    """`veil --help` imports every command module: these must not pull numpy, OpenVINO, the store..."""
    import subprocess
    import sys

    modules = (
        "store",
        "store_common",
        "store_audit",
        "ingest",
        "fairness",
        "report",
        "coverage",
        "models",
        "tune",
    )
    heavy = ("numpy", "cv2", "openvino", "cryptography", "sqlite3", "rich.console", "veilcv.store", "yaml")
    code = (
        "import sys\n"
        + "".join(f"import veilcv.cli.{m}\n" for m in modules)
        + f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
