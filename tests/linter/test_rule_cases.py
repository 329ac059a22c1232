"""One generic test runs every rule's passing and failing case files.

Layout, per rule in the registry::

    tests/linter/cases/<RULE_ID>/
        expected.yaml    # what the failing case must report, at exact locations
        pass/...         # a tree on which the rule reports nothing
        fail/...         # a tree on which the rule reports exactly `expected.yaml`'s `fail` list

``expected.yaml``::

    pack: default              # optional: bundled pack the case policy extends (default: default)
    policy: {storage: {customer_managed_key: true}}   # optional: overrides merged onto the pack
    fail:                      # every finding of THIS rule in fail/, in any order
      - {file: main.tf, line: 3, resource: aws_s3_bucket.frames}   # resource: only for infra code
      - {file: data/manifest.csv, line: 2}

Only findings of the case's own rule are compared; other rules may fire on the same files.

A rule whose verdict a policy setting changes has a case per setting besides: ``<RULE_ID>/settings/
<name>/`` holds its own ``expected.yaml`` (naming the setting in ``policy``), ``pass/`` and ``fail/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from veilcv.linter import engine, registry
from veilcv.policies.loader import load_policy_source

CASES = Path(__file__).resolve().parent / "cases"
RULE_IDS = [r.id for r in registry.all_rules()]
#: Every case folder: ``VC203`` and, per policy setting it has cases for, ``VC203/settings/declared``.
CASE_DIRS = [
    f"{rule_id}/settings/{p.name}" if p else rule_id
    for rule_id in RULE_IDS
    for p in [None, *sorted(d for d in (CASES / rule_id / "settings").glob("*") if d.is_dir())]
]


def _expected(case: str) -> dict[str, Any]:
    path = CASES / case / "expected.yaml"
    assert path.is_file(), f"{case}: missing {path.relative_to(CASES.parent)}"
    doc = yaml.safe_load(path.read_text("utf-8")) or {}
    assert set(doc) <= {"pack", "policy", "fail"}, f"{case}: unknown keys in expected.yaml: {sorted(doc)}"
    assert doc.get("fail"), f"{case}: expected.yaml must list at least one failing location"
    return doc


def _run(rule_id: str, tree: Path, doc: dict[str, Any], tmp_path: Path) -> list[dict[str, Any]]:
    policy = {"version": 1, "extends": doc.get("pack", "default"), **(doc.get("policy") or {})}
    policy_file = tmp_path / "case-policy.yaml"
    policy_file.write_text(yaml.safe_dump(policy), "utf-8")
    report = engine.check(tree, load_policy_source(policy_file))
    found = []
    for f in report.findings:
        if f.rule_id == rule_id:
            entry: dict[str, Any] = {"file": f.file, "line": f.line}
            if f.resource:
                entry["resource"] = f.resource
            found.append(entry)
    return found


def _key(entry: dict[str, Any]) -> tuple[str, int, str]:
    return (entry["file"], entry["line"], entry.get("resource") or "")


@pytest.mark.parametrize("case", CASE_DIRS)
def test_failing_case_reports_exact_locations(case: str, tmp_path: Path) -> None:
    rule_id, doc = case.split("/")[0], _expected(case)
    tree = CASES / case / "fail"
    assert tree.is_dir(), f"{rule_id}: missing fail/ case"
    found = sorted(_run(rule_id, tree, doc, tmp_path), key=_key)
    want = sorted(
        ({k: v for k, v in e.items() if k in ("file", "line", "resource")} for e in doc["fail"]), key=_key
    )
    assert found == want


@pytest.mark.parametrize("case", CASE_DIRS)
def test_passing_case_is_clean(case: str, tmp_path: Path) -> None:
    rule_id, doc = case.split("/")[0], _expected(case)
    tree = CASES / case / "pass"
    assert tree.is_dir(), f"{rule_id}: missing pass/ case"
    assert _run(rule_id, tree, doc, tmp_path) == []


def test_no_case_folder_without_a_rule() -> None:
    stray = sorted(p.name for p in CASES.iterdir() if p.is_dir() and p.name not in RULE_IDS)
    assert stray == []
