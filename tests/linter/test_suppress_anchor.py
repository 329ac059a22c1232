"""Where an inline suppression reaches (its line and the next, or the whole block it precedes),
and VC005 for a suppression that hides nothing, so a misplaced comment never passes unseen."""

from __future__ import annotations

from pathlib import Path

import pytest

from veilcv.linter import engine
from veilcv.policies.loader import LoadedPolicy

from .conftest import policy_file

REASON = 'reason="public press kit, no personal data" until=2999-01-01'
# VC201 for this container is reported on its container_access_type line, three lines into the block.
CONTAINER = """\
resource "azurerm_storage_account" "media" {{
  name                     = "acmemedia"
  resource_group_name      = "rg"
  location                 = "westeurope"
  account_tier             = "Standard"
  account_replication_type = "GRS"
}}

{comment}
resource "azurerm_storage_container" "press" {{ {trailing}
  name                  = "press"
  storage_account_id    = azurerm_storage_account.media.id
  container_access_type = "blob"
}}
"""


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def _ids(report: engine.Report, rule: str) -> list[tuple[str, int]]:
    return [(f.file, f.line) for f in report.findings if f.rule_id == rule]


def _hidden(report: engine.Report, rule: str) -> list[tuple[str, int]]:
    return [(s.finding.file, s.finding.line) for s in report.suppressed if s.finding.rule_id == rule]


@pytest.mark.parametrize(
    ("comment", "trailing"),
    [
        (f"# veil:ignore VC201 {REASON}", ""),  # on the line above the resource
        (f"// veil:ignore VC201 {REASON}", ""),
        ("", f"# veil:ignore VC201 {REASON}"),  # on the resource's opening line
        (f'# veil:ignore VC203 reason="other"\n# veil:ignore VC201 {REASON}', ""),  # stacked
        (f"# veil:ignore VC201 {REASON}\n# (a note between the comment and the block)", ""),
    ],
)
def test_comment_before_a_terraform_block_covers_the_whole_block(
    tmp_path: Path, default_policy: LoadedPolicy, comment: str, trailing: str
) -> None:
    root = _tree(tmp_path, {"azure.tf": CONTAINER.format(comment=comment, trailing=trailing)})
    report = engine.check(root, default_policy)
    assert _ids(report, "VC201") == []
    [(file, line)] = _hidden(report, "VC201")
    assert file == "azure.tf" and line > 11  # reported inside the block, below the comment's reach of old
    assert [f.message for f in report.findings if f.rule_id == "VC005"] == (
        [
            "suppression of VC203 matched no finding in resource azurerm_storage_container.press "
            "(lines 9-15); delete it, or put it on the line above the finding or above the block that "
            "holds it"
        ]
        if "VC203" in comment
        else []
    )


def test_comment_above_a_blank_line_covers_nothing_and_says_so(
    tmp_path: Path, default_policy: LoadedPolicy
) -> None:
    text = CONTAINER.format(comment=f"# veil:ignore VC201 {REASON}\n", trailing="")
    report = engine.check(_tree(tmp_path, {"azure.tf": text}), default_policy)
    assert _ids(report, "VC201") == [("azure.tf", 14)]  # still reported
    [unused] = [f for f in report.findings if f.rule_id == "VC005"]
    assert (unused.file, unused.line) == ("azure.tf", 9)
    assert unused.message.startswith("suppression of VC201 matched no finding on lines 9-10; ")
    assert report.exit_code == 1


def test_block_cover_ends_at_the_closing_brace(tmp_path: Path, default_policy: LoadedPolicy) -> None:
    text = (
        f"# veil:ignore VC201 {REASON}\n"
        'resource "aws_s3_bucket" "site" {\n'
        '  bucket = "acme-site"\n'
        '  tags   = { note = "a } in a string and a { too" }\n'
        "}\n"
        'resource "aws_s3_bucket_acl" "site" {\n'
        "  bucket = aws_s3_bucket.site.id\n"
        '  acl    = "public-read"\n'
        "}\n"
    )
    report = engine.check(_tree(tmp_path, {"main.tf": text}), default_policy)
    assert ("main.tf", 6) in _ids(report, "VC201")  # the next resource is not covered
    assert [f.line for f in report.findings if f.rule_id == "VC005"] == [1]


def test_resource_anchor_reaches_its_findings_in_other_files_of_the_module(
    tmp_path: Path, default_policy: LoadedPolicy
) -> None:
    bucket = (
        f'# veil:ignore VC205 {REASON}\nresource "aws_s3_bucket" "frames" {{\n  bucket = "acme-frames"\n}}\n'
    )
    root = _tree(tmp_path, {"infra/main.tf": bucket, "other/main.tf": bucket.split("\n", 1)[1]})
    report = engine.check(root, default_policy)
    assert _hidden(report, "VC205") == [("infra/main.tf", 2)]
    assert ("other/main.tf", 1) in _ids(report, "VC205")  # another module's bucket of the same name


def test_comment_above_a_yaml_list_item_covers_the_item(tmp_path: Path, default_policy: LoadedPolicy) -> None:
    text = (
        "buckets:\n"
        f"  # veil:ignore VC201 {REASON}\n"
        "  - name: onprem-mirror\n"
        "    provider: minio\n"
        "    tls_only: true\n"
        "    public: true\n"
        "  - name: onprem-frames\n"
        "    provider: minio\n"
        "    public: true\n"
    )
    report = engine.check(_tree(tmp_path, {"buckets.yaml": text}), default_policy)
    assert _hidden(report, "VC201") == [("buckets.yaml", 6)]  # on `public: true`, 4 lines down
    assert _ids(report, "VC201") == [("buckets.yaml", 9)]  # the next item is not covered


def test_manifest_row_keeps_its_line_and_the_next(project: Path, default_policy: LoadedPolicy) -> None:
    manifest = project / "data" / "manifest.csv"
    lines = manifest.read_text().splitlines()
    lines.insert(1, f"# veil:ignore VC105 {REASON}")  # above a.png, which has a source: hides nothing
    manifest.write_text("\n".join(lines) + "\n")
    report = engine.check(project, default_policy)
    assert _ids(report, "VC105") == [("data/manifest.csv", 4)]
    assert _ids(report, "VC005") == [("data/manifest.csv", 2)]


def test_rules_that_did_not_run_are_not_judged(project: Path, tmp_path: Path, default_policy) -> None:
    (project / "infra" / "main.tf").write_text(f"# veil:ignore VC201 {REASON}\n" + "locals {\n  x = 1\n}\n")
    assert _ids(engine.check(project, default_policy), "VC005") == [("infra/main.tf", 1)]
    assert _ids(engine.check(project, default_policy, only=["manifest"]), "VC005") == []
    off = policy_file(tmp_path, "version: 1\nrules: {VC201: {enabled: false}}\n")
    assert _ids(engine.check(project, off), "VC005") == []
    quiet = policy_file(tmp_path, "version: 1\nrules: {VC005: {enabled: false}}\n")
    assert _ids(engine.check(project, quiet), "VC005") == []


def test_unused_policy_entries_are_reported_on_whole_runs_only(project: Path, tmp_path: Path) -> None:
    loaded = policy_file(
        tmp_path,
        "version: 1\nsuppressions:\n"
        '  - {rule: VC105, path: "data/*.csv", reason: "vendor tracing sources"}\n'
        '  - {rule: VC203, path: "infra/old.tf", reason: "bucket removed long ago"}\n',
    )
    report = engine.check(project, loaded)
    [unused] = [f for f in report.findings if f.rule_id == "VC005"]
    assert (unused.file, unused.line) == (str(tmp_path / "policy.yaml"), 4)
    assert unused.message == (
        "suppression of VC203 matched no finding in infra/old.tf; delete it or fix its path"
    )
    per_file = engine.check(project, loaded, paths=["data/manifest.csv"])
    assert _ids(per_file, "VC005") == []


def test_every_suppression_of_a_finding_counts_as_used(project: Path, tmp_path: Path) -> None:
    manifest = project / "data" / "manifest.csv"
    lines = manifest.read_text().splitlines()
    lines.insert(2, f"# veil:ignore VC105 {REASON}")
    manifest.write_text("\n".join(lines) + "\n")
    loaded = policy_file(
        tmp_path,
        'version: 1\nsuppressions:\n  - {rule: VC105, path: "data/manifest.csv", reason: "vendor"}\n',
    )
    report = engine.check(project, loaded)
    assert _ids(report, "VC105") == [] and _ids(report, "VC005") == []


def test_suppressing_a_suppression_problem_is_reported(project: Path, default_policy) -> None:
    (project / "infra" / "notes.tf").write_text(f"# veil:ignore VC002 {REASON}\n# veil:ignore VC203\n")
    report = engine.check(project, default_policy)
    assert ("infra/notes.tf", 2) in _ids(report, "VC002")
    [unused] = [f for f in report.findings if f.rule_id == "VC005"]
    assert unused.message == (
        "suppression of VC002 hides nothing: suppression problems cannot be suppressed; delete it"
    )


def test_veil_ignore_in_a_python_string_is_no_suppression(tmp_path: Path, default_policy) -> None:
    code = 'LINE = \'# veil:ignore VC105 reason="x"\'\n# veil:ignore VC203 reason="a real comment"\n'
    report = engine.check(_tree(tmp_path, {"tool.py": code}), default_policy)
    assert _ids(report, "VC005") == [("tool.py", 2)]
