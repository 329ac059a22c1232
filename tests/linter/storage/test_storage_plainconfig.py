"""Plain YAML/JSON bucket configs: the documented format, its errors, and what is not a config."""

from __future__ import annotations

import json
import re

import pytest

HARDENED = """\
buckets:
  - name: frames
    provider: minio
    public: false
    encryption: {enabled: true, kms_key: keys/frames}
    versioning: true
    tls_only: true
    logging: {target: audit}
    lifecycle:
      - {prefix: raw/, expire_days: 7}
      - {prefix: redacted/, expire_days: 90}
    read_roles:
      - {role: reader, prefixes: [redacted/]}
      - {role: admin}
    signed_url_max_seconds: 600
    replication: [frames-replica]
    prefixes: [raw/, redacted/]
  - name: audit
    public: false
    encryption: true
    versioning: true
    tls_only: true
    object_lock: true
    lifecycle: [{expire_days: 400}]
  - name: frames-replica
    public: false
    encryption: true
    versioning: true
    tls_only: true
    logging: {target: audit}
    lifecycle: [{expire_days: 7}]
"""


def test_hardened_plain_config_is_clean(run) -> None:
    findings, ctx = run({"storage/buckets.yaml": HARDENED})
    assert ctx.skipped == []
    assert findings == []


def test_json_config_reports_lines(run) -> None:
    doc = {"buckets": [{"name": "a", "public": True, "encryption": True}]}
    text = json.dumps(doc, indent=2)
    findings, _ = run({"buckets.json": text})
    public = [f for f in findings if f.rule_id == "VC201"]
    assert [(f.file, f.line, f.resource) for f in public] == [("buckets.json", 5, "bucket.a")]


def test_each_weakening_gives_its_rule(run) -> None:
    lines = HARDENED.splitlines(keepends=True)
    assert lines[5:11] == [
        "    versioning: true\n",
        "    tls_only: true\n",
        "    logging: {target: audit}\n",
        "    lifecycle:\n",
        "      - {prefix: raw/, expire_days: 7}\n",
        "      - {prefix: redacted/, expire_days: 90}\n",
    ]
    weak = "".join(lines[:5] + lines[11:])
    findings, _ = run({"b.yaml": weak})
    frames = sorted(f.rule_id for f in findings if f.extra["bucket"] == "bucket.frames")
    assert frames == ["VC205", "VC206", "VC208", "VC212"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "buckets:\n  - name: a\n    versionning: true\n",
            "line 3: buckets.0.versionning: unknown key; use one of",
        ),
        (
            "buckets:\n  - name: a\n    public: 'no'\n",
            "line 3: buckets.0.public: expected true/false, got 'no'",
        ),
        ("buckets:\n  - name: a\n    signed_url_max_seconds: true\n", "expected an integer, got True"),
        ("buckets: {name: a}\n", "line 1: buckets: expected a list of buckets, got dict"),
        ("buckets:\n  - public: true\n", "line 2: buckets.0: expected a mapping with a string `name`"),
        (
            "buckets:\n  - name: a\n    lifecycle: [{prefix: raw/, expire_days: -1}]\n",
            "expected {prefix: raw/, expire_days: 7}",
        ),
        ("buckets:\n  - name: a\n  bad: [\n", "cannot parse storage config: line"),
        (
            "buckets:\n  - name: a\n    encryption: {enabled: 'no'}\n",
            "encryption.enabled: expected true/false",
        ),
        (
            "buckets:\n  - name: a\n    logging: {sink: x}\n",
            "buckets.0.logging.sink: unknown key; use one of immutable",
        ),
        (
            "buckets:\n  - name: a\n    read_roles: [{role: r, prefixes: raw/}]\n",
            "expected a list of prefixes",
        ),
    ],
)
def test_bad_config_fails_closed_with_a_located_message(run, text: str, message: str) -> None:
    findings, ctx = run({"buckets.yaml": text})
    assert findings == [] and ctx.skipped == []  # not skipped: the engine reports it as VC004
    assert [(f.rule_id, f.file) for f in ctx.unparsed] == [("VC004", "buckets.yaml")]
    assert message in ctx.unparsed[0].message and "\n" not in ctx.unparsed[0].message
    named = re.match(r"line (\d+):", message)
    if named:
        assert ctx.unparsed[0].line == int(named[1])


def test_yaml_and_json_without_buckets_are_not_storage_configs(run) -> None:
    findings, ctx = run(
        {
            "ci.yaml": "jobs: {test: {runs-on: ubuntu}}\n",
            "data.json": '{"records": [1, 2]}',
            "notes.yaml": "text: 'we keep buckets private'\n",
            "broken.yaml": "a: [\n",
        }
    )
    assert findings == [] and ctx.skipped == [] and ctx.unparsed == []
