"""Ingest: a manifest record vouches for the one file it names, never for a look-alike elsewhere."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from store.helpers import POLICY, FixedDetector, jpeg_bytes, make_store, new_key

from veilcv.core.pipeline import RedactOptions, Redactor
from veilcv.errors import InputError
from veilcv.ingest import Ingestor
from veilcv.linter.rules.manifest.reader import read_manifest


def _ingest(tmp_path: Path, files: dict[str, bytes], manifest: str) -> dict[str, object]:
    src = tmp_path / "src"
    for name, data in files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(data)
    (src / "manifest.csv").write_text(manifest)
    store = make_store(tmp_path / "vault", new_key())
    redactor = Redactor(RedactOptions(what=("face",), strict=True), detectors={"face": FixedDetector()})
    try:
        report = Ingestor(store, POLICY, redactor, actor="t").run(src, src / "manifest.csv")
        stored = {i.key: i.subject for i in store.list(role="admin", actor="t")}
    finally:
        store.close()
    return {"outcomes": {o.file: o for o in report.outcomes}, "stored": stored}


def test_a_record_for_a_jpg_does_not_admit_sub_a_jpg(tmp_path: Path) -> None:
    result = _ingest(
        tmp_path,
        {"a.jpg": jpeg_bytes(1), "sub/a.jpg": jpeg_bytes(2)},  # same name, different picture
        "filename,source,license,subject_id\na.jpg,https://example.org/a,CC0-1.0,S1\n",
    )
    outcomes = result["outcomes"]
    assert outcomes["a.jpg"].status == "stored"
    assert outcomes["sub/a.jpg"].status == "rejected" and outcomes["sub/a.jpg"].reason == "no manifest record"
    assert list(result["stored"].values()) == ["S1"]  # one object: sub/a.jpg did not inherit S1's record


def test_a_record_in_a_subfolder_does_not_admit_the_root_file(tmp_path: Path) -> None:
    result = _ingest(
        tmp_path,
        {"a.jpg": jpeg_bytes(1), "sub/a.jpg": jpeg_bytes(2)},
        "filename,source,license,subject_id\nsub/a.jpg,https://example.org/a,CC0-1.0,S2\n",
    )
    outcomes = result["outcomes"]
    assert outcomes["sub/a.jpg"].status == "stored" and outcomes["a.jpg"].status == "rejected"


def test_a_record_leaving_the_source_folder_matches_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.jpg").write_bytes(jpeg_bytes(3))
    result = _ingest(
        tmp_path,
        {"src_a.jpg": jpeg_bytes(1)},
        "filename,source,license\n../a.jpg,https://example.org/a,CC0-1.0\n/etc/a.jpg,https://e.org,CC0-1.0\n",
    )
    assert result["stored"] == {} and result["outcomes"]["src_a.jpg"].status == "rejected"


def test_a_fifo_given_as_the_manifest_is_refused_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "manifest.csv")  # no writer: reading it would block forever
    with pytest.raises(InputError, match="got a special file"):
        read_manifest(tmp_path / "manifest.csv")
