"""The default pack reads storage settings as Checkov does; the bundled strict pack turns veil's
stricter readings on. Both judge the same conformance tree (``conformance/checkov_readings``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from veilcv.linter import engine
from veilcv.policies.loader import load_policy_source

TREE = Path(__file__).resolve().parent / "conformance" / "checkov_readings"
STRICT = Path(__file__).resolve().parent / "conformance" / "strict_readings"


def _verdicts(pack: str) -> dict[tuple[str, str], str]:
    report = engine.check(TREE, load_policy_source(pack=pack), only=["storage"])
    found: dict[tuple[str, str], str] = {}
    for f in report.findings:
        key = (f.extra.get("bucket", ""), f.rule_id)
        if found.get(key) != "fail":
            found[key] = f.extra.get("verdict", "fail")
    return found


def test_the_strict_pack_turns_on_every_strict_reading() -> None:
    want = yaml.safe_load((STRICT / "expected.yaml").read_text("utf-8"))["verdicts"]
    found = _verdicts("strict")
    got = {(b, r): found.get((b, r), "pass") for b, rules in want.items() for r in rules}
    assert got == {(b, r): v for b, rules in want.items() for r, v in rules.items()}


@pytest.mark.parametrize(
    ("bucket", "rule", "default", "strict"),
    [
        ("aws_s3_bucket.plain", "VC203", "pass", "fail"),  # S3 encrypts by default since 2023
        ("aws_s3_bucket.chosen", "VC203", "pass", "unknown"),
        ("aws_s3_bucket.legacy", "VC208", "pass", "fail"),  # a transition-only lifecycle rule
        ("aws_s3_bucket.keyed", "VC208", "pass", "fail"),  # a disabled expiration
        ("google_storage_bucket.site", "VC208", "pass", "fail"),
        ("google_storage_bucket.site", "VC201", "fail", "fail"),  # allUsers under enforced prevention
    ],
)
def test_default_and_strict_readings(bucket: str, rule: str, default: str, strict: str) -> None:
    assert _verdicts("default").get((bucket, rule), "pass") == default
    assert _verdicts("strict").get((bucket, rule), "pass") == strict


def test_unredacted_data_is_judged_encrypted_as_vc203_judges_it() -> None:
    # VC504 (a bucket holding unredacted prefixes must be encrypted at rest) reads storage.encryption
    # as VC203 does: the VC504 case's bucket relies on S3's default encryption.
    case = Path(__file__).resolve().parent.parent / "cases" / "VC504" / "fail"
    for pack, want in (("default", []), ("strict", ["VC504"])):
        report = engine.check(case, load_policy_source(pack=pack))
        assert [f.rule_id for f in report.findings if f.rule_id == "VC504"] == want, pack
