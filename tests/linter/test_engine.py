"""The engine: severities, disabling, suppressions, baselines, per-file mode, .gitignore, skips."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from veilcv.errors import InputError, VeilcvError
from veilcv.linter import baseline, engine, registry
from veilcv.linter.finding import Finding, Severity

from .conftest import png, policy_file


def _ids(report: engine.Report) -> list[tuple[str, str, int]]:
    return [(f.rule_id, f.file, f.line) for f in report.findings]


def test_findings_carry_severity_category_and_resource(project: Path, default_policy) -> None:
    report = engine.check(project, default_policy)
    assert ("VC105", "data/manifest.csv", 3) in _ids(report)
    assert ("VC103", "data/manifest.csv", 4) in _ids(report)
    for f in report.findings:
        rule = registry.rule(f.rule_id)
        assert f.severity == rule.severity and f.category == rule.category
    storage = [f for f in report.findings if f.file == "infra/main.tf"]
    assert storage and all(f.resource == "aws_s3_bucket.frames" for f in storage)
    assert report.exit_code == 1
    assert report.files_checked == 5


def test_policy_changes_severity_and_disables_rules(project: Path, tmp_path: Path) -> None:
    loaded = policy_file(
        tmp_path, "version: 1\nrules:\n  VC105: {severity: critical}\n  VC103: {enabled: false}\n"
    )
    report = engine.check(project, loaded)
    vc105 = [f for f in report.findings if f.rule_id == "VC105"]
    assert [f.severity for f in vc105] == [Severity.CRITICAL]
    assert not [f for f in report.findings if f.rule_id == "VC103"]
    assert "VC103" not in {r.id for r in report.rules}
    assert report.rule("VC105").severity is Severity.CRITICAL


def test_inline_suppression_covers_its_line_and_the_next(project: Path, default_policy) -> None:
    manifest = project / "data" / "manifest.csv"
    lines = manifest.read_text().splitlines()
    lines.insert(2, '# veil:ignore VC105 reason="source requested from the vendor" until=2999-01-01')
    manifest.write_text("\n".join(lines) + "\n")
    report = engine.check(project, default_policy)
    assert not [f for f in report.findings if f.rule_id == "VC105"]
    [hidden] = report.suppressed
    assert (hidden.finding.rule_id, hidden.kind, hidden.reason, hidden.line) == (
        "VC105",
        "inSource",
        "source requested from the vendor",
        3,
    )


def test_expired_and_reasonless_inline_suppressions_hide_nothing(project: Path, default_policy) -> None:
    manifest = project / "data" / "manifest.csv"
    lines = manifest.read_text().splitlines()
    lines.insert(2, '# veil:ignore VC105 reason="later" until=2026-01-01')
    lines.insert(4, "# veil:ignore VC103")
    manifest.write_text("\n".join(lines) + "\n")
    report = engine.check(project, default_policy, today=dt.date(2026, 1, 2))
    ids = _ids(report)
    assert ("VC001", "data/manifest.csv", 3) in ids and ("VC105", "data/manifest.csv", 4) in ids
    assert ("VC002", "data/manifest.csv", 5) in ids and ("VC103", "data/manifest.csv", 6) in ids
    expired = next(f for f in report.findings if f.rule_id == "VC001")
    assert expired.message == "suppression of VC105 expired on 2026-01-01; fix or renew it"
    # The day before, the same suppression still holds.
    assert ("VC105", "data/manifest.csv", 4) not in _ids(
        engine.check(project, default_policy, today=dt.date(2026, 1, 1))
    )


def test_policy_suppressions_by_path_and_their_expiry(project: Path) -> None:
    policy = project / "veil.yaml"
    policy.write_text(
        "version: 1\n"
        "suppressions:\n"
        '  - {rule: VC103, path: "data/*.csv", reason: "NC use approved for research", until: 2999-01-01}\n'
        '  - {rule: VC105, path: "data/", reason: "tracked in TICKET-1", until: 2020-01-01}\n'
    )
    from veilcv.policies.loader import load_policy_source

    report = engine.check(project, load_policy_source(policy))
    assert [(s.finding.rule_id, s.kind, s.file, s.line) for s in report.suppressed] == [
        ("VC103", "external", "veil.yaml", 3)
    ]
    assert ("VC001", "veil.yaml", 4) in _ids(report)
    assert ("VC105", "data/manifest.csv", 3) in _ids(report)


def test_baseline_hides_known_findings_only(project: Path, default_policy, tmp_path: Path) -> None:
    first = engine.check(project, default_policy)
    base = tmp_path / "baseline.json"
    baseline.write(base, first.findings)
    text = base.read_text()
    assert "manifest.csv" not in text and "source" not in text  # fingerprints only, no content
    again = engine.check(project, default_policy, baseline=base)
    assert again.findings == () and len(again.baselined) == len(first.findings)
    # A new problem (a second record without a source) is reported despite the baseline.
    manifest = project / "data" / "manifest.csv"
    manifest.write_text(manifest.read_text() + "d.png,,CC0-1.0,\n")
    png(project / "data" / "d.png")
    new = engine.check(project, default_policy, baseline=base)
    assert _ids(new) == [("VC105", "data/manifest.csv", 5)]


def test_baseline_counts_identical_findings(tmp_path: Path) -> None:
    twin = Finding("VC105", "same", "m.csv", 2)
    counts = baseline.load(_write(tmp_path / "b.json", baseline.dumps([twin])))
    new, old = baseline.split([twin, Finding("VC105", "same", "m.csv", 9)], counts)
    assert (len(new), len(old)) == (1, 1)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "b.json:1:1: expected a JSON baseline, got invalid JSON (Expecting value)"),
        ("\udcff", "expected a JSON baseline, got binary (non-UTF-8) data"),
        ('{"version": 2, "fingerprints": {}}', "expected a veil baseline (version 1), got something else"),
        (
            '{"version": 1, "fingerprints": {"x": 0}}',
            "$.fingerprints: expected fingerprint -> positive count",
        ),
    ],
)
def test_bad_baseline_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "b.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)").replace("$", r"\$")):
        baseline.load(path)


def test_baseline_that_is_a_fifo_or_folder_fails_fast(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.json")  # reading it without a writer would block forever
    with pytest.raises(InputError, match="pipe.json: expected a baseline file, got a special file"):
        baseline.load(tmp_path / "pipe.json")
    with pytest.raises(InputError, match=f"^{tmp_path}: expected a baseline file, got a folder$"):
        baseline.load(tmp_path)


def test_baseline_write_errors_are_input_errors(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="cannot write the baseline: "):
        baseline.write(tmp_path / "file" / "b.json", [])
    with pytest.raises(InputError, match="expected a baseline file path, got a folder"):
        baseline.write(tmp_path, [])


def test_special_files_in_the_tree_are_skipped_not_read(project: Path, default_policy) -> None:
    os.mkfifo(project / "events.json")  # a FIFO would block the run if it were read
    (project / "gone.tf").symlink_to("nowhere.tf")
    report = engine.check(project, default_policy)
    assert ("events.json", "not a regular file (FIFO, socket or device)") in report.skipped
    assert ("gone.tf", "cannot read: No such file or directory") in report.skipped
    assert "events.json" not in engine.walk(project)


def test_non_utf8_files_are_named_with_the_offending_byte(project: Path, default_policy) -> None:
    (project / "infra" / "latin1.tf").write_bytes(b'# caf\xe9\nresource "aws_s3_bucket" "x" {}\n')
    report = engine.check(project, default_policy)
    assert _vc004(report)["infra/latin1.tf"] == (
        "cannot read Terraform: expected UTF-8 text, got byte 0xe9 at offset 5; save the file as UTF-8"
    )
    assert "infra/latin1.tf" not in dict(report.skipped)


def _vc004(report: engine.Report) -> dict[str, str]:
    return {f.file: f.message for f in report.findings if f.rule_id == "VC004"}


def test_per_file_mode_reports_only_the_named_files(project: Path, default_policy) -> None:
    report = engine.check(project, default_policy, paths=["infra/main.tf"])
    assert report.findings and {f.file for f in report.findings} == {"infra/main.tf"}
    assert report.files_checked == 1
    with pytest.raises(InputError, match="expected a file or folder, got nothing there"):
        engine.check(project, default_policy, paths=["nope.tf"])


def test_only_limits_to_targets(project: Path, default_policy) -> None:
    report = engine.check(project, default_policy, only=["storage"])
    assert report.findings and {registry.rule(f.rule_id).target for f in report.findings} == {"storage"}


def test_gitignore_is_respected(project: Path, default_policy) -> None:
    (project / ".gitignore").write_text("ignored/\n*.tmp.csv\n")
    (project / "ignored").mkdir()
    png(project / "ignored" / "x.png")
    (project / "data" / ".gitignore").write_text("c.png\n")
    files = engine.walk(project)
    assert "ignored/x.png" not in files and "data/c.png" not in files
    assert "data/a.png" in files and ".gitignore" in files
    (project / ".git").mkdir()
    (project / ".git" / "HEAD").write_text("ref")
    assert not [f for f in engine.walk(project) if f.startswith(".git/")]


def test_unparseable_terraform_is_a_finding_not_a_skip(project: Path, default_policy) -> None:
    (project / "infra" / "broken.tf").write_text('resource "aws_s3_bucket" "x" {\n  acl = \n}\n')
    report = engine.check(project, default_policy)
    assert report.skipped == ()
    [bad] = [f for f in report.findings if f.rule_id == "VC004"]
    assert (bad.file, bad.line, bad.severity, bad.category) == (
        "infra/broken.tf",
        2,
        Severity.HIGH,
        "public_access",
    )
    assert bad.message.startswith("cannot parse Terraform: ") and report.exit_code == 1
    # Per-file mode (the storage pre-commit hook) fails on it too, alone or with other targets.
    alone = engine.check(project, default_policy, paths=["infra/broken.tf"], only=["storage"])
    assert [f.rule_id for f in alone.findings] == ["VC004"] and alone.exit_code == 1


def test_unparseable_files_turned_off_are_still_listed_as_skipped(project: Path, tmp_path: Path) -> None:
    (project / "infra" / "broken.tf").write_text('resource "aws_s3_bucket" "x" {\n')
    loaded = policy_file(tmp_path, "version: 1\nrules: {VC004: {enabled: false}}\n")
    report = engine.check(project, loaded)
    assert not _vc004(report)
    assert dict(report.skipped)["infra/broken.tf"].startswith("cannot parse Terraform: ")


def test_unparseable_file_can_be_suppressed_with_a_reason(project: Path, tmp_path: Path) -> None:
    (project / "infra" / "template.tf").write_text('resource "aws_s3_bucket" "{{ name }}" {\n')
    loaded = policy_file(
        tmp_path,
        "version: 1\nsuppressions:\n"
        '  - {rule: VC004, path: "infra/template.tf", reason: "a template the deploy job renders"}\n',
    )
    report = engine.check(project, loaded)
    assert "infra/template.tf" not in _vc004(report)
    assert [s.finding.file for s in report.suppressed if s.finding.rule_id == "VC004"] == [
        "infra/template.tf"
    ]


def test_files_that_are_no_target_stay_skipped_or_ignored(project: Path, default_policy) -> None:
    (project / "notes.yaml").write_text("a: [\n")  # broken YAML that is no bucket config
    (project / "weights.bin").write_bytes(bytes(range(256)))  # binary, no target of any rule
    (project / "data.json").write_bytes(b"\xff\xfe{}")  # not UTF-8, says nothing about buckets
    os.mkfifo(project / "main.tf")
    report = engine.check(project, default_policy)
    assert _vc004(report) == {}
    assert dict(report.skipped) == {"main.tf": "not a regular file (FIFO, socket or device)"}


def test_a_crashing_family_fails_the_run(
    project: Path, default_policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken:
        __name__ = "broken"
        RULES = registry.FAMILIES[0].RULES

        @staticmethod
        def check(ctx):
            raise KeyError("boom")

    monkeypatch.setattr(registry, "FAMILIES", (Broken(),))
    with pytest.raises(VeilcvError, match="internal error in rule family broken: KeyError"):
        engine.check(project, default_policy)


def test_root_must_be_a_folder(tmp_path: Path, default_policy) -> None:
    with pytest.raises(InputError, match="expected a folder to check, got nothing"):
        engine.check(tmp_path / "missing", default_policy)


def test_hostile_deep_nesting_is_reported_not_an_internal_error(project: Path, default_policy) -> None:
    deep = "[" * 50_000 + "]" * 50_000  # past Python's recursion limit in json and yaml
    (project / "telemetry").mkdir()
    (project / "telemetry" / "events.jsonl").write_text('{"a": ' + deep + "}\n")
    (project / "telemetry" / "login.event.json").write_text('{"a": ' + deep + "}\n")
    (project / "buckets.yaml").write_text("buckets: " + deep + "\n")
    (project / "deep.manifest.json").write_text(deep)
    report = engine.check(project, default_policy)
    too_deep = "expected at most 64 levels of nesting, got more"
    unparsed = _vc004(report)
    assert unparsed["telemetry/events.jsonl"] == f"line 1: {too_deep}"
    assert unparsed["telemetry/login.event.json"].endswith(too_deep)
    assert unparsed["buckets.yaml"] == f"cannot parse storage config: {too_deep}"
    unreadable = [f for f in report.findings if f.rule_id == "VC100"]
    assert [(f.file, f.message) for f in unreadable] == [
        ("deep.manifest.json", f"deep.manifest.json: {too_deep}")
    ]


def test_yaml_alias_bomb_in_a_bucket_config_fails_closed_fast(project: Path, default_policy) -> None:
    lines = ["buckets: []", 'l0: &l0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
    (project / "buckets.yaml").write_text("\n".join(lines) + "\n")
    (project / "loop.yaml").write_text("buckets: &b [*b]\n")
    unparsed = _vc004(engine.check(project, default_policy))
    assert unparsed["buckets.yaml"] == (
        "cannot parse storage config: expected aliases to add at most 1000000 YAML values, got more "
        "(an alias bomb?)"
    )
    assert unparsed["loop.yaml"].endswith("expected a tree of values, got an alias that refers to itself")


def test_a_folder_that_cannot_be_listed_is_reported_as_skipped(
    project: Path, default_policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_scandir = os.scandir
    locked = str(project / "infra")

    def scandir(path: object = ".") -> object:
        if str(path) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    report = engine.check(project, default_policy)
    assert ("infra/", "cannot list the folder: Permission denied") in report.skipped


def test_empty_json_manifest_and_event_file_say_so(project: Path, default_policy) -> None:
    (project / "telemetry").mkdir()
    (project / "telemetry" / "login.event.json").write_text("")
    (project / "croissant.json").write_text("\n")
    report = engine.check(project, default_policy)
    assert _vc004(report)["telemetry/login.event.json"] == (
        "expected an event, a list of events or an event schema, got an empty file"
    )
    assert [f.message for f in report.findings if f.rule_id == "VC100"] == [
        "croissant.json: expected a JSON manifest, got an empty file"
    ]


def test_naming_a_fifo_in_per_file_mode_is_a_clear_error(project: Path, default_policy) -> None:
    os.mkfifo(project / "pipe.jsonl")
    with pytest.raises(InputError, match="pipe.jsonl: expected a file or folder, got a special file"):
        engine.check(project, default_policy, paths=["pipe.jsonl"])
