"""Fail closed: detector failure, failed verification, broken models, full disk, kill -9, concurrency."""

from __future__ import annotations

import errno
import json
import resource
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from store.helpers import POLICY, FailingDetector, FixedDetector, key_env, make_store, run_worker

from ingest.conftest import Dataset, make_dataset
from veilcv.cli.main import main
from veilcv.core.detection.types import Detections
from veilcv.core.pipeline import RedactOptions, Redactor
from veilcv.ingest import Ingestor
from veilcv.store import MasterKey, Store, from_policy
from veilcv.store.crypto import BLOB_MAGIC
from veilcv.store.maintenance import check, recover


def _objects(root: Path, key: MasterKey) -> list[str]:
    with Store.open(root, key, from_policy(POLICY)) as store:
        assert check(store).missing == []
        assert recover(store) is not None and check(store).ok
        assert store.verify_audit().ok
        return [i.key for i in store.list(role="admin", actor="t")]


def _no_plaintext(root: Path, dataset: Dataset) -> None:
    for blob in (root / "objects").rglob("*"):
        if blob.is_file():
            assert blob.read_bytes().startswith(BLOB_MAGIC), blob
    disk = [p.read_bytes() for p in root.rglob("*") if p.is_file()]
    for data in dataset.originals.values():
        assert not any(data[-300:] in d for d in disk)


def _run(store: Store, dataset: Dataset, detector, **opts) -> dict[str, int]:
    redactor = Redactor(RedactOptions(what=("face",), strict=True, **opts), detectors={"face": detector})
    return Ingestor(store, POLICY, redactor).run(dataset.src, dataset.manifest, jobs=2).counts


class Shifty(FixedDetector):
    """Finds the face in one place, then somewhere else on the redacted output: verification fails."""

    def detect(self, image_bgr: np.ndarray) -> Detections:
        if image_bgr[8:24, 8:24].max() > 30:  # the original: face at the usual place
            return super().detect(image_bgr)
        return Detections(np.array([[30, 20, 46, 40]], np.float32), np.array([0.9], np.float32), ("face",))


@pytest.mark.parametrize(
    "detector", [FailingDetector(), Shifty()], ids=["detector-raises", "verification-fails"]
)
def test_no_object_is_written_when_redaction_or_verification_fails(tmp_path, dataset, key, detector) -> None:
    store = make_store(tmp_path / "vault", key)
    counts = _run(store, dataset, detector)
    assert counts == {"stored": 0, "duplicate": 0, "rejected": 5, "failed": 4}
    store.close()
    assert _objects(tmp_path / "vault", key) == []
    _no_plaintext(tmp_path / "vault", dataset)


def test_disk_full_on_write_stores_nothing(tmp_path, dataset, key, monkeypatch) -> None:
    import veilcv.store.objects as objects

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(objects, "write_bytes", full)
    store = make_store(tmp_path / "vault", key)
    assert _run(store, dataset, FixedDetector())["failed"] == 4
    store.close()
    assert _objects(tmp_path / "vault", key) == []


def test_real_file_size_limit_mid_ingest_leaves_nothing(tmp_path, key) -> None:
    dataset = make_dataset(tmp_path, size=(320, 320))  # noisy 320 px JPEGs: each well over 64 KiB
    assert min(len(dataset.originals[n]) for n in dataset.good) > 80_000
    root = tmp_path / "vault"
    make_store(root, key).close()

    def limit() -> None:  # no file may grow past 64 KiB in the child: the disk fills up mid-run
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))

    proc = run_worker(
        "ingest._worker",
        [str(dataset.src), str(dataset.manifest), str(root), "fixed"],
        key_env(key),
        preexec_fn=limit,
    )
    out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert out.startswith(b"ready"), err.decode()[-2000:]  # the store opened; the writes failed
    assert _objects(root, key) == []
    _no_plaintext(root, dataset)


def _corrupt_models(model_dir: Path) -> None:
    from veilcv.core.detection.registry import load_registry

    registry = load_registry()
    for task in ("face", "plate", "text"):
        try:
            spec = registry.for_task(task)
        except Exception:
            continue
        (model_dir / spec.file).write_bytes(b"\x00not a model\x00" * 100)


@pytest.mark.parametrize("how", ["corrupted", "removed"])
def test_broken_model_stops_ingest_before_anything_is_stored(
    tmp_path, dataset, key, monkeypatch, capsys, how
):
    model_dir = tmp_path / "models"
    model_dir.mkdir()
    if how == "corrupted":
        _corrupt_models(model_dir)
    monkeypatch.setenv("VEILCV_MODEL_DIR", str(model_dir))
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # a removed model cannot be fetched again here
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "nowhere"))
    for name, value in key_env(key).items():
        if name.startswith("VEIL_"):
            monkeypatch.setenv(name, value)
    code = main(
        ["ingest", str(dataset.src), "--manifest", str(dataset.manifest), "--store", str(tmp_path / "v")]
    )
    lines = capsys.readouterr().err.splitlines()
    # a removed model is fetched first (one progress line says so), which fails: one error line
    errors = [line for line in lines if line.startswith("veil: error: ")]
    assert code == 2 and len(errors) == 1 and lines[-1] == errors[0], lines
    assert all(line.startswith("veil: fetching model") for line in lines[:-1]), lines
    assert not (tmp_path / "v").exists()  # nothing, not even an empty store
    # and through the library, with a store already there: every file fails, nothing is stored
    store = make_store(tmp_path / "vault", key)
    redactor = Redactor(RedactOptions(what=("face",), strict=True))
    counts = Ingestor(store, POLICY, redactor).run(dataset.src, dataset.manifest).counts
    assert counts["stored"] == 0 and counts["failed"] == 4
    store.close()
    assert _objects(tmp_path / "vault", key) == []


def _worker(dataset: Dataset, root: Path, key: MasterKey, kind: str = "fixed"):
    return run_worker(
        "ingest._worker", [str(dataset.src), str(dataset.manifest), str(root), kind], key_env(key)
    )


def _wait_until_objects(root: Path, n: int, timeout: float = 90.0) -> None:
    import sqlite3

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn = sqlite3.connect(f"file:{root / 'catalog.sqlite'}?mode=ro", uri=True, timeout=5)
        try:
            if conn.execute("SELECT COUNT(*) FROM objects").fetchone()[0] >= n:
                return
        except sqlite3.OperationalError:
            pass
        finally:
            conn.close()
        time.sleep(0.02)
    raise AssertionError(f"the ingest did not store {n} objects within {timeout} s")


def test_kill_9_during_ingest_then_resume(tmp_path, key) -> None:
    dataset = make_dataset(tmp_path, n_good=16)
    root = tmp_path / "vault"
    for round_ in (1, 2):
        proc = _worker(dataset, root, key, "slow")
        try:
            assert proc.stdout.readline().strip() == b"ready", proc.stderr.read()[-2000:]
            _wait_until_objects(root, 2 * round_)  # kill it mid-run, once it has stored something
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL  # killed, not finished
        keys = _objects(root, key)
        assert len(keys) == len(set(keys)) and 2 * round_ <= len(keys) <= 16
        _no_plaintext(root, dataset)
    proc = _worker(dataset, root, key)
    out, err = proc.communicate(timeout=180)
    counts = json.loads(out.decode().splitlines()[-1])
    assert counts["stored"] + counts["duplicate"] == 16, err.decode()[-2000:]
    assert len(_objects(root, key)) == 16  # resumed, no duplicates


def test_two_ingests_at_once(tmp_path, key) -> None:
    dataset = make_dataset(tmp_path, n_good=12)
    root = tmp_path / "vault"  # both runs also race to create the store
    procs = [_worker(dataset, root, key) for _ in range(2)]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 1, err.decode()[-2000:]  # 1: the rejected files
        results.append(json.loads(out.decode().splitlines()[-1]))
    assert sum(r["stored"] for r in results) == 12
    assert all(r["stored"] + r["duplicate"] == 12 and r["failed"] == 0 for r in results)
    assert len(_objects(root, key)) == 12
    _no_plaintext(root, dataset)
