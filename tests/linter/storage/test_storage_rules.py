"""Policy switches and the decisions behind the grant, retention and sink rules."""

from __future__ import annotations

import copy

import pytest

from veilcv.linter.finding import CATEGORIES
from veilcv.linter.rules import storage
from veilcv.linter.rules.storage.model import Bucket, Grant, LifecycleRule, Loc, index

from .conftest import POLICY

LOC = Loc("b.yaml", 1, "bucket.b")


def _bucket(**kw) -> Bucket:
    base = dict(
        name="b",
        provider="plain",
        address="bucket.b",
        file="b.yaml",
        line=1,
        public=False,
        encrypted=True,
        versioning=True,
        access_logging=True,
        log_target="ext",
        tls_only=True,
        lifecycle=[LifecycleRule("", 7, True, LOC)],
    )
    base.update(kw)
    return Bucket(**base)


def _ids(b: Bucket, policy: dict | None = None, others: list[Bucket] | None = None) -> list[str]:
    pol = policy or POLICY
    found = storage.check_bucket(b, index([b, *(others or [])]), pol["storage"], pol["retention"]["prefixes"])
    return sorted(f.rule_id for f in found)


def test_clean_bucket_has_no_findings() -> None:
    assert _ids(_bucket()) == []


def test_rules_have_stable_ids_names_and_categories() -> None:
    ids = [r.id for r in storage.RULES]
    assert ids == [f"VC2{n:02d}" for n in range(1, len(ids) + 1)]
    assert len({r.name for r in storage.RULES}) == len(ids)
    for r in storage.RULES:
        assert r.category in CATEGORIES and r.target == "storage"
        assert r.rationale and r.fix and "\n" not in r.rationale
        assert r.name == r.name.lower() and " " not in r.name


@pytest.mark.parametrize(
    ("key", "value", "bucket_kw", "rule_id"),
    [
        ("public_access", "allowed", {"public": True}, "VC201"),
        ("public_access", "allowed", {"public": None}, "VC202"),
        ("encryption", "optional", {"encrypted": False}, "VC203"),
        ("versioning", "optional", {"versioning": False}, "VC205"),
        ("access_logging", "optional", {"access_logging": False}, "VC206"),
        ("lifecycle", "optional", {"lifecycle": []}, "VC208"),
        ("tls", "optional", {"tls_only": False}, "VC212"),
    ],
)
def test_policy_switches_turn_rules_off(key: str, value: str, bucket_kw: dict, rule_id: str) -> None:
    b = _bucket(**bucket_kw)
    assert rule_id in _ids(b)
    pol = copy.deepcopy(POLICY)
    pol["storage"][key] = value
    assert rule_id not in _ids(b, pol)


def test_cmk_only_when_the_policy_requires_it() -> None:
    pol = copy.deepcopy(POLICY)
    assert _ids(_bucket(kms_key=False)) == []
    pol["storage"]["customer_managed_key"] = True
    assert _ids(_bucket(kms_key=False), pol) == ["VC204"]
    assert _ids(_bucket(kms_key=True), pol) == []


@pytest.mark.parametrize(
    ("principal", "role", "prefixes", "expected"),
    [
        ("reader", "reader", ("redacted/",), []),
        ("reader", "reader", ("redacted/2026/",), []),
        ("reader", "reader", ("raw/",), ["VC211"]),
        ("reader", "reader", ("*",), ["VC210"]),
        ("admin", "admin", ("*",), []),
        ("admin", "admin", ("raw/",), []),
        ("writer", "writer", ("quarantine/",), []),
        ("someone", None, ("*",), ["VC210"]),
        ("someone", None, ("raw/",), ["VC211"]),
        ("someone", None, ("raw/cam1/",), ["VC211"]),
        ("someone", None, ("redacted/",), []),
    ],
)
def test_grants(principal: str, role: str | None, prefixes: tuple[str, ...], expected: list[str]) -> None:
    b = _bucket(grants=[Grant(principal, role, prefixes, LOC)], lifecycle=[LifecycleRule("", 7, True, LOC)])
    assert _ids(b) == expected


@pytest.mark.parametrize(
    ("rules", "prefixes", "expected"),
    [
        ([LifecycleRule("", 7, True, LOC)], ("raw/",), []),
        (
            [LifecycleRule("raw/", 7, True, LOC), LifecycleRule("", 365, True, LOC)],
            ("raw/", "redacted/"),
            ["VC209"],
        ),
        ([LifecycleRule("raw/", 8, True, LOC)], ("raw/",), ["VC209"]),
        ([LifecycleRule("raw/", 3, False, LOC), LifecycleRule("", 5, True, LOC)], ("raw/",), []),
        ([LifecycleRule("raw/", None, True, LOC), LifecycleRule("x/", 1, True, LOC)], ("raw/",), ["VC209"]),
        ([LifecycleRule("logs/", 400, True, LOC)], (), []),
    ],
)
def test_retention_applies_to_prefixes_the_bucket_holds(rules, prefixes, expected) -> None:
    assert _ids(_bucket(lifecycle=rules, prefixes=prefixes)) == expected


def test_mutable_sink_and_unknown_sink() -> None:
    assert _ids(_bucket(log_sink_immutable=False)) == ["VC207"]
    assert _ids(_bucket(log_sink_immutable=None)) == []  # sink outside the checked files: cannot tell


def test_signed_url_limit_and_replication() -> None:
    assert _ids(_bucket(signed_url_max_seconds=901)) == ["VC213"]
    assert _ids(_bucket(signed_url_max_seconds=900)) == []
    weak = _bucket(name="copy", address="bucket.copy", encrypted=False)
    assert _ids(_bucket(replication_targets=["copy"]), others=[weak]) == ["VC214"]
    strong = _bucket(name="copy", address="bucket.copy")
    assert _ids(_bucket(replication_targets=["copy"]), others=[strong]) == []
    assert _ids(_bucket(replication_targets=["elsewhere"])) == []


def test_findings_point_at_the_offending_setting() -> None:
    where = Loc("main.tf", 12, "aws_s3_bucket_acl.a")
    b = _bucket(public=True, public_reason="acl public-read", locs={"public": where})
    f, guard = storage.check_bucket(b, index([b]), POLICY["storage"], {})
    assert (f.rule_id, f.file, f.line, f.resource) == ("VC201", "main.tf", 12, "aws_s3_bucket_acl.a")
    # A public bucket does not block public access either: reported at the bucket, no guard declared.
    assert (guard.rule_id, guard.file, guard.line) == ("VC202", "b.yaml", 1)
    assert f.extra["bucket"] == "bucket.b"
    assert f.message == "bucket b (through aws_s3_bucket_acl.a) is public: acl public-read"
    assert (f.extra["bucket_file"], f.extra["bucket_line"], f.extra["verdict"]) == ("b.yaml", "1", "fail")
