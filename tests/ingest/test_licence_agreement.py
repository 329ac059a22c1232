"""`veil ingest` and `veil check` give the same verdict on the same manifest records.

Both read the policy's verdict on a record (``veilcv.policies.licences.record_problems``) and look
records up in the same index with the same matcher (patterns as in ``.gitignore``), so a file
`veil check` flags can never get into the store, and a file it passes is never refused for its
licence. Each case here once differed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from veilcv.ingest import RecordIndex, licence_problem
from veilcv.linter import engine
from veilcv.linter.rules.manifest import RULE_OF_KIND, read_manifest
from veilcv.policies import load_policy_source

RECORD_RULES = {rule.id for rule in RULE_OF_KIND.values()}
POLICY = "version: 1\nlicences:\n  denied: [CC-BY-SA-4.0]\n"

CSV_ROWS = [  # filename, source, license, attribution
    ("by_no_credit.jpg", "https://example.org/1", "CC-BY-4.0", ""),  # VC104, once passed by ingest
    ("by_credited.jpg", "https://example.org/2", "CC-BY-4.0", "A. Photographer"),
    ("mit_no_credit.jpg", "https://example.org/3", "MIT", ""),  # VC104 too
    ("sa.jpg", "https://example.org/4", "CC-BY-SA-4.0", "A. Photographer"),  # denied by ID
    ("nc.jpg", "https://example.org/5", "CC-BY-NC-4.0", "A. Photographer"),  # denied category
    ("unknown.jpg", "https://example.org/6", "NotARealLicence-1.0", "A. Photographer"),  # VC102
    ("no_source.jpg", "", "CC0-1.0", ""),  # VC105, once passed by ingest
    ("cc0.jpg", "https://example.org/7", "CC0-1.0", ""),
    ("./sub/listed.jpg", "https://example.org/8", "CC0-1.0", ""),
    ("elsewhere.jpg", "https://example.org/9", "CC0-1.0", ""),  # a record for another folder's file
]
CSV_IMAGES = {  # image -> accepted
    "by_no_credit.jpg": False,
    "by_credited.jpg": True,
    "mit_no_credit.jpg": False,
    "sa.jpg": False,
    "nc.jpg": False,
    "unknown.jpg": False,
    "no_source.jpg": False,
    "cc0.jpg": True,
    "sub/listed.jpg": True,
    "deep/elsewhere.jpg": False,  # ingest once matched records by bare file name; check calls it unlisted
}

CROISSANT_SETS = [  # includes, license
    ("**/x.jpg", "CC-BY-4.0"),  # fnmatch misses x.jpg at the root; gitwildmatch matches it
    ("a/*.jpg", "CC-BY-4.0"),  # fnmatch also matches a/b/deep.jpg; gitwildmatch does not
    ("nc/*.jpg", "CC-BY-NC-4.0"),
]
CROISSANT_IMAGES = {
    "x.jpg": True,
    "n/x.jpg": True,
    "a/ok.jpg": True,
    "a/b/deep.jpg": False,
    "nc/y.jpg": False,
}


def _csv_tree(root: Path) -> Path:
    lines = ["filename,source,license,attribution"]
    lines += [",".join(row) for row in CSV_ROWS]
    manifest = root / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def _croissant_tree(root: Path) -> Path:
    doc = {
        "@type": "sc:Dataset",
        "name": "agreement",
        "url": "https://example.org/ds",
        "license": "CC0-1.0",
        "creator": {"@type": "Person", "name": "A. Photographer"},
        "distribution": [
            {"@type": "cr:FileSet", "@id": f"set{i}", "includes": pattern, "license": lic}
            for i, (pattern, lic) in enumerate(CROISSANT_SETS)
        ],
    }
    manifest = root / "croissant.json"
    manifest.write_text(json.dumps(doc, indent=1))
    return manifest


@pytest.mark.parametrize(("make", "images"), [(_csv_tree, CSV_IMAGES), (_croissant_tree, CROISSANT_IMAGES)])
def test_ingest_and_check_agree_on_every_record(tmp_path: Path, make, images: dict[str, bool]) -> None:
    (tmp_path / "veil.yaml").write_text(POLICY)
    manifest = make(tmp_path)
    for rel in images:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"\xff\xd8\xff\xe0 not decoded by either")
    loaded = load_policy_source(tmp_path / "veil.yaml")
    report = engine.check(tmp_path, loaded)
    index = RecordIndex(read_manifest(manifest))

    flagged_lines = {f.line for f in report.findings if f.file == manifest.name and f.rule_id in RECORD_RULES}
    unlisted = {f.file for f in report.findings if f.rule_id == "VC107"}
    by_check, by_ingest = {}, {}
    for rel in images:
        records = index.records(rel)
        by_check[rel] = rel not in unlisted and not any(r.line in flagged_lines for r in records)
        by_ingest[rel] = bool(records) and not any(licence_problem(r, loaded.data) for r in records)
    assert by_ingest == images
    assert by_check == by_ingest


def test_ingest_names_the_rule_check_reports(tmp_path: Path) -> None:
    manifest = _csv_tree(tmp_path)
    record = RecordIndex(read_manifest(manifest)).find("by_no_credit.jpg")
    assert record is not None
    policy = load_policy_source().data
    assert licence_problem(record, policy) == (
        "manifest line 2: VC104 missing-attribution: by_no_credit.jpg: attribution is required but the"
        " record gives none"
    )
    # A rule the policy disables is no finding in `veil check`, so it refuses nothing in ingest either.
    relaxed = {**policy, "rules": {"VC104": {"enabled": False}}}
    assert licence_problem(record, relaxed) == ""
