"""kill -9 in the middle of writes and purges, and concurrent writers: the store stays consistent."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from store._worker import marker
from store.helpers import POLICY, key_env, run_worker
from veilcv.store import MasterKey, Store, from_policy
from veilcv.store.maintenance import check, recover


def _wait_for(proc, word: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    line = b""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.strip() == word.encode() or not line:
            break
    assert line.strip() == word.encode(), proc.stderr.read().decode()[-2000:]


def _assert_consistent(root: Path, key: MasterKey, markers: range, paired: bool = True) -> list[str]:
    """Catalog matches files (after sweeping crash orphans), no plaintext on disk, audit verifies."""
    store = Store.open(root, key, from_policy(POLICY))
    try:
        assert check(store).missing == []  # the catalog never names a blob that is not there
        assert recover(store) is not None
        assert check(store).ok
        disk = [p.read_bytes() for p in root.rglob("*") if p.is_file()]
        for i in markers:
            assert not any(marker(i)[:40] in blob for blob in disk), f"plaintext of object {i} on disk"
        report = store.verify_audit()
        assert report.ok, report.problems
        keys = [i.key for i in store.list(role="admin", actor="t")]
        for k in keys:  # every object the catalog names decrypts to what was written
            assert store.get(k, role="admin", actor="t") == marker(int(Path(k).stem))
        if paired:  # put_many is all-or-nothing
            raw = {k.split("/")[1] for k in keys if k.startswith("raw/")}
            assert raw == {k.split("/")[1] for k in keys if k.startswith("redacted/")}
        return keys
    finally:
        store.close()


@pytest.mark.parametrize("delay", [0.05, 0.3, 0.8])
def test_kill_9_during_writes(tmp_path: Path, key: MasterKey, delay: float) -> None:
    root = tmp_path / "vault"
    proc = run_worker("store._worker", ["put", str(root), "0", "100000"], key_env(key))
    try:
        _wait_for(proc, "ready")
        time.sleep(delay)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    keys = _assert_consistent(root, key, range(0, 200))
    # and the store is usable afterwards: a rerun resumes without duplicates
    proc = run_worker("store._worker", ["put", str(root), "0", "3"], key_env(key))
    assert proc.wait(timeout=60) == 0, proc.stderr.read().decode()[-2000:]
    after = _assert_consistent(root, key, range(0, 200))
    assert len(after) == max(len(keys), 6)


def test_kill_9_during_purge(tmp_path: Path, key: MasterKey) -> None:
    root = tmp_path / "vault"
    proc = run_worker("store._worker", ["put", str(root), "0", "60"], key_env(key))
    assert proc.wait(timeout=120) == 0, proc.stderr.read().decode()[-2000:]
    env = {**key_env(key), "VEIL_TEST_CLOCK_OFFSET_DAYS": "8"}  # raw/ (7 days) is due, redacted/ is not
    for delay in (0.05, 0.2):
        proc = run_worker("store._worker", ["purge", str(root), "0", "0"], env)
        try:
            _wait_for(proc, "ready")
            time.sleep(delay)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        keys = _assert_consistent(root, key, range(0, 60), paired=False)
        assert sum(k.startswith("redacted/") for k in keys) == 60  # only due objects go
    proc = run_worker("store._worker", ["purge", str(root), "0", "0"], env)
    assert proc.wait(timeout=120) == 0
    keys = _assert_consistent(root, key, range(0, 60), paired=False)
    assert not any(k.startswith("raw/") for k in keys) and len(keys) == 60


def test_two_writers_at_once(tmp_path: Path, key: MasterKey) -> None:
    root = tmp_path / "vault"  # not created yet: both processes race to create it too
    # overlapping ranges: both try objects 20..39; each must land exactly once
    procs = [run_worker("store._worker", ["put", str(root), str(a), "40"], key_env(key)) for a in (0, 20)]
    for p in procs:
        assert p.wait(timeout=180) == 0, p.stderr.read().decode()[-2000:]
    keys = _assert_consistent(root, key, range(0, 60))
    assert len(keys) == 120
    with Store.open(root, key, from_policy(POLICY)) as store:
        inits = store._conn().execute("SELECT COUNT(*) FROM audit WHERE action = 'init'").fetchone()[0]
    assert inits == 1 and oct(root.stat().st_mode & 0o777) == "0o700"
