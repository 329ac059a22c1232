"""The ingest pipeline: licence check → strip → redact → verify → store, idempotent and audited."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from store.helpers import DAY, POLICY, Clock, FixedDetector, files_containing, make_store, policy

from ingest.conftest import Dataset
from veilcv.core.metadata import check_bytes
from veilcv.core.pipeline import RedactOptions, Redactor
from veilcv.ingest import Ingestor, RecordIndex, licence_problem
from veilcv.linter.rules.manifest.reader import read_manifest
from veilcv.store import MasterKey, Store
from veilcv.store.maintenance import check
from veilcv.store.purge import purge
from veilcv.store.subjects import delete_subject
from veilcv.telemetry.gate import TelemetryGate


def _ingestor(store: Store, pol: dict = POLICY, detector=None, sent: list | None = None) -> Ingestor:
    redactor = Redactor(
        RedactOptions(what=("face",), strict=True), detectors={"face": detector or FixedDetector()}
    )
    gate = TelemetryGate(store.policy, sent.append if sent is not None else None)
    return Ingestor(store, pol, redactor, actor="test", gate=gate)


def _decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_only_licensed_files_get_in_redacted_and_stripped(
    tmp_path: Path, dataset: Dataset, key: MasterKey
) -> None:
    store = make_store(tmp_path / "vault", key)
    sent: list = []
    report = _ingestor(store, sent=sent).run(dataset.src, dataset.manifest, jobs=2)
    by_file = {o.file: o for o in report.outcomes}
    assert report.counts == {"stored": 4, "duplicate": 0, "rejected": 5, "failed": 0} and not report.ok
    assert {f for f, o in by_file.items() if o.status == "stored"} == set(dataset.good)
    assert "non_commercial" in by_file["nc.jpg"].reason
    assert "VC102 invalid-spdx-expression" in by_file["bad_spdx.jpg"].reason
    assert "sha256 differs" in by_file["tampered.jpg"].reason
    assert by_file["unlisted.jpg"].reason == "no manifest record"
    assert "expected an image" in by_file["notes.txt"].reason
    keys = [i.key for i in store.list(role="admin", actor="t")]
    assert len(keys) == 4 and all(k.startswith("redacted/") for k in keys)  # keep_raw is off
    for name in dataset.good:
        out = store.get(by_file[name].key, role="reader", actor="t")
        assert check_bytes(out).clean  # no EXIF, no GPS
        assert _decode(out)[10:22, 10:22].max() < 40  # the detected face is boxed out (JPEG noise aside)
        assert _decode(out).std() > 40  # and the rest of the picture is still there
        assert files_containing(store.root, dataset.originals[name][-200:]) == []
    rejected = store._conn().execute("SELECT detail FROM audit WHERE action = 'ingest-rejected'").fetchall()
    assert len(rejected) == 5
    assert not any(name in r[0] for r in rejected for name in dataset.originals)  # no file names in the log
    assert store.verify_audit().ok and check(store).ok
    store.close()


def test_rerun_is_idempotent(tmp_path: Path, dataset: Dataset, key: MasterKey) -> None:
    store = make_store(tmp_path / "vault", key)
    _ingestor(store).run(dataset.src, dataset.manifest)
    before = sorted(i.key for i in store.list(role="admin", actor="t"))
    again = _ingestor(store).run(dataset.src, dataset.manifest)
    assert again.counts["stored"] == 0 and again.counts["duplicate"] == 4
    assert sorted(i.key for i in store.list(role="admin", actor="t")) == before
    store.close()


def test_raw_kept_only_when_allowed_only_under_raw_only_for_its_ttl(
    tmp_path: Path, dataset: Dataset, key: MasterKey
) -> None:
    clock = Clock()
    pol = policy(keep_raw=True)
    store = make_store(tmp_path / "vault", key, clock, pol)
    report = _ingestor(store, pol).run(dataset.src, dataset.manifest)
    stored = [o for o in report.outcomes if o.status == "stored"]
    assert all(o.raw_key and o.raw_key.startswith("raw/") for o in stored)
    for o in stored:
        assert (
            store.get(o.raw_key, role="admin", actor="t") == dataset.originals[o.file]
        )  # byte-exact original
    clock.advance(7 * DAY)
    purged = purge(store, role="admin", actor="t").items
    assert sorted(i.key for i in purged) == sorted(o.raw_key for o in stored)
    assert all(i.key.startswith("redacted/") for i in store.list(role="admin", actor="t"))
    store.close()


def test_deleted_subjects_are_not_ingested_again(tmp_path: Path, dataset: Dataset, key: MasterKey) -> None:
    store = make_store(tmp_path / "vault", key)
    _ingestor(store).run(dataset.src, dataset.manifest)
    receipt = delete_subject(store, "S0", role="admin", actor="t")
    assert len(receipt.keys) == 2
    store._conn().execute("DELETE FROM ingested")  # even with the resume ledger gone...
    report = _ingestor(store).run(dataset.src, dataset.manifest)
    reasons = {o.file: o.reason for o in report.outcomes}
    assert reasons["cam1_0.jpg"] == reasons["cam1_2.jpg"] == "covered by a deletion request"
    assert not any(i.subject == "S0" for i in store.list(role="admin", actor="t"))
    store.close()


def test_telemetry_summary_goes_through_the_gate(tmp_path: Path, key: MasterKey) -> None:
    from ingest.conftest import make_dataset

    data = make_dataset(tmp_path, n_good=6)
    store = make_store(tmp_path / "vault", key)
    sent: list = []
    report = _ingestor(store, sent=sent).run(data.src, data.manifest)
    assert report.telemetry == sent
    # 6 stored and 5 rejected pass the minimum count of 3; nothing else is said
    assert sorted((e["event"], e["count"]) for e in sent) == [("ingest_rejected", 5), ("ingest_stored", 6)]
    assert all(set(e) == {"event", "count", "hour"} for e in sent)
    assert "jpg" not in json.dumps(sent)
    store.close()


def test_writer_role_scoped_away_from_redacted_stores_nothing(tmp_path: Path, dataset: Dataset, key) -> None:
    pol = {**POLICY, "storage": {**POLICY["storage"], "roles": {"writer": {"prefixes": ["quarantine/"]}}}}
    store = make_store(tmp_path / "vault", key, None, pol)
    report = _ingestor(store, pol).run(dataset.src, dataset.manifest)
    assert report.counts["stored"] == 0 and report.counts["failed"] == 4
    assert all("may not write" in o.reason for o in report.outcomes if o.status == "failed")
    assert store._conn().execute("SELECT COUNT(*) FROM objects").fetchone()[0] == 0 and check(store).ok
    store.close()


def test_record_matching(tmp_path: Path) -> None:
    m = tmp_path / "m.csv"
    m.write_text("filename,source,license\n./a/x.jpg,s,MIT\ny.jpg,s,MIT\nz/y.jpg,s,MIT\nw.jpg,s,MIT\n")
    index = RecordIndex(read_manifest(m))
    assert index.find("a/x.jpg").filename == "./a/x.jpg"
    assert index.find("z/y.jpg").filename == "z/y.jpg"
    assert index.find("y.jpg").filename == "y.jpg"
    # Names are paths from the source folder, as `veil check` reads them: no guess by bare file name.
    assert index.find("deep/w.jpg") is None
    assert index.find("other/y.jpg") is None
    assert index.find("q.jpg") is None


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("a.jpg,src,MIT,Jane", ""),
        ("a.jpg,src,MIT,", "VC104 missing-attribution"),
        ("a.jpg,,MIT,Jane", "VC105 missing-source"),
        ("a.jpg,src,,", "VC101 missing-licence-expression"),
        ("a.jpg,src,CC-BY-NC-SA-4.0,Jane", "non_commercial"),
        ("a.jpg,src,GPL-3.0-only OR CC-BY-NC-4.0,Jane", ""),
        ("a.jpg,src,NotALicence,", "VC102 invalid-spdx-expression"),
    ],
)
def test_licence_problem(tmp_path: Path, row: str, problem: str) -> None:
    m = tmp_path / "m.csv"
    m.write_text("filename,source,license,attribution\n" + row + "\n")
    got = licence_problem(read_manifest(m)[0], POLICY)
    assert (problem in got) if problem else got == ""


def test_unusable_subject_ids_are_rejected(tmp_path: Path, key: MasterKey) -> None:
    from store.helpers import jpeg_bytes

    src = tmp_path / "src"
    src.mkdir()
    (src / "a.jpg").write_bytes(jpeg_bytes(1))
    m = tmp_path / "m.csv"
    m.write_text("filename,source,license,subject_id\na.jpg,src,CC0-1.0,Jane Doe (from the street)\n")
    store = make_store(tmp_path / "vault", key)
    (outcome,) = _ingestor(store).run(src, m).outcomes
    assert (
        outcome.status == "rejected" and "subject_id: expected" in outcome.reason
    )  # else it could not be deleted
    store.close()


def test_subject_id_added_after_a_first_ingest_reaches_the_stored_objects(
    tmp_path: Path, dataset: Dataset, key: MasterKey
) -> None:
    text = dataset.manifest.read_text()
    dataset.manifest.write_text(text.replace(",S0,", ",,"))  # the first run has no subject for S0's files
    store = make_store(tmp_path / "vault", key)
    _ingestor(store).run(dataset.src, dataset.manifest)
    assert not any(i.subject == "S0" for i in store.list(role="admin", actor="t"))
    dataset.manifest.write_text(text)  # the manifest now names the subject; a rerun stores nothing new
    report = _ingestor(store).run(dataset.src, dataset.manifest)
    assert report.counts["stored"] == 0
    reasons = {o.file: o.reason for o in report.outcomes}
    assert reasons["cam1_0.jpg"].endswith("recorded") and reasons["cam2/img_1.jpg"] == "already ingested"
    receipt = delete_subject(store, "S0", role="admin", actor="t")
    assert len(receipt.keys) == 2  # the deletion request finds them
    assert store.verify_audit().ok
    store.close()


def test_every_image_veil_redacts_is_ingested_under_the_suffix_it_is_stored_as(tmp_path: Path, key) -> None:
    from veilcv.core.defaults import IMAGE_SUFFIXES

    src = tmp_path / "src"
    src.mkdir()
    pixels = np.random.default_rng(0).integers(0, 256, (40, 48, 3), dtype=np.uint8)
    for name, fmt in (("a.bmp", "BMP"), ("b.jpeg", "JPEG"), ("c.webp", "WEBP")):
        Image.fromarray(pixels).save(src / name, fmt)
    rows = "".join(f"{n},src,CC0-1.0\n" for n in ("a.bmp", "b.jpeg", "c.webp"))
    (tmp_path / "m.csv").write_text("filename,source,license\n" + rows)
    store = make_store(tmp_path / "vault", key, None, policy(keep_raw=True))
    by_file = {o.file: o for o in _ingestor(store).run(src, tmp_path / "m.csv").outcomes}
    assert {".bmp", ".jpeg", ".webp"} <= IMAGE_SUFFIXES  # the one list ingest accepts
    assert all(o.status == "stored" for o in by_file.values()), by_file
    # BMP is written as PNG (its metadata can be verified), and its key says so; the raw original keeps BMP.
    assert by_file["a.bmp"].key.endswith(".png") and by_file["a.bmp"].raw_key.endswith(".bmp")
    assert Image.open(io.BytesIO(store.get(by_file["a.bmp"].key, role="reader", actor="t"))).format == "PNG"
    assert by_file["b.jpeg"].key.endswith(".jpg") and by_file["c.webp"].key.endswith(".webp")
    store.close()
