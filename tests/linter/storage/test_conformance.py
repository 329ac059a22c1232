"""The conformance corpus: per bucket and rule, the verdict Terraform's semantics call for.

Each folder under ``conformance/`` is a small tree written from the providers' documentation (the
AWS provider's v3 inline blocks and v4+ split resources, Google and Azure resources) with an
``expected.yaml``::

    what: one line saying what the case covers
    policy: {storage: {customer_managed_key: true}}   # optional, merged over the default pack
    tree: other_case                                   # optional: judge another case's code
    git_remote: git@github.com:acme/infra.git          # optional: judge a copy of the tree as a
                                                       # clone of that remote (no nested .git here)
    verdicts:
      aws_s3_bucket.frames: {VC201: pass, VC202: fail, VC205: unknown}

Every listed (bucket, rule) pair must get exactly that verdict: ``fail`` a finding on the bucket
(its JSON ``bucket`` address) with verdict fail, ``unknown`` one with verdict unknown, ``pass`` no
finding of the rule for the bucket.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from veilcv.linter import engine
from veilcv.policies.loader import load_policy_source

CORPUS = Path(__file__).resolve().parent / "conformance"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "expected.yaml").is_file())


def _verdicts(case: str, tmp_path: Path) -> tuple[dict[tuple[str, str], str], dict[str, Any]]:
    doc = yaml.safe_load((CORPUS / case / "expected.yaml").read_text("utf-8"))
    policy = {"version": 1, "extends": "default", **(doc.get("policy") or {})}
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(yaml.safe_dump(policy), "utf-8")
    tree = CORPUS / doc.get("tree", case)
    if doc.get("git_remote"):
        tree = Path(shutil.copytree(tree, tmp_path / "clone"))
        (tree / ".git").mkdir()
        (tree / ".git" / "config").write_text(f'[remote "origin"]\n\turl = {doc["git_remote"]}\n', "utf-8")
    report = engine.check(tree, load_policy_source(policy_file), only=["storage"])
    found: dict[tuple[str, str], str] = {}
    for f in report.findings:
        if "bucket" in f.extra:
            key = (f.extra["bucket"], f.rule_id)
            # one failing finding outweighs an unknown one for the same bucket and rule
            if found.get(key) != "fail":
                found[key] = f.extra.get("verdict", "fail")
    return found, doc


def test_the_corpus_covers_every_form() -> None:
    assert len(CASES) >= 8


@pytest.mark.parametrize("case", CASES)
def test_verdicts(case: str, tmp_path: Path) -> None:
    found, doc = _verdicts(case, tmp_path)
    assert doc.get("what"), f"{case}: say what the case covers"
    want = {(b, r): v for b, rules in doc["verdicts"].items() for r, v in rules.items()}
    got = {key: found.get(key, "pass") for key in want}
    assert got == want
