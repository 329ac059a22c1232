"""``veilcv.check`` and ``veilcv.load_policy``: the report and the policy `veil check` uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

import veilcv
from veilcv.cli.main import main
from veilcv.errors import InputError, PolicyError, ValidationError
from veilcv.linter.reporters import json as json_reporter
from veilcv.policies.loader import PolicySchemaError

DIRTY = "filename,source,license,attribution\na.png,,CC-BY-NC-4.0,Jo Doe\n"
RESEARCH = "version: 1\nextends: research\nrules: {VC105: {enabled: false}}\n"


@pytest.fixture
def dirty(tmp_path: Path) -> Path:
    root = tmp_path / "dirty"
    (root / "data").mkdir(parents=True)
    (root / "data" / "manifest.csv").write_text(DIRTY)
    Image.new("RGB", (4, 4)).save(root / "data" / "a.png")
    return root


def without_time(doc: str) -> dict:
    data = json.loads(doc)
    data.pop("created", None)
    return data


@pytest.mark.parametrize(
    "argv, kwargs",
    [
        ([], {}),
        (["--policy", "research"], {"policy": "research"}),
        (["--only", "manifest"], {"only": ["manifest"]}),
    ],
)
def test_check_is_what_veil_check_reports(dirty: Path, argv, kwargs, capsys) -> None:
    code = main(["check", str(dirty), "--format", "json", *argv])
    cli = without_time(capsys.readouterr().out)
    report = veilcv.check(dirty, **kwargs)
    assert code == report.exit_code
    assert without_time(json_reporter.render(report)) == cli


def test_findings_are_data(dirty: Path) -> None:
    report = veilcv.check(dirty)
    assert [(f.rule_id, f.file, f.line, f.severity) for f in report.findings] == [
        ("VC103", "data/manifest.csv", 2, veilcv.Severity.HIGH),
        ("VC105", "data/manifest.csv", 2, veilcv.Severity.MEDIUM),
    ]
    assert all(isinstance(f, veilcv.Finding) for f in report.findings)
    assert isinstance(report, veilcv.Report) and report.exit_code == 1 and report.files_checked == 2


def test_load_policy_finds_the_repository_policy_like_veil_check(dirty: Path, capsys) -> None:
    (dirty / ".git").mkdir()
    (dirty / "veil.yaml").write_text(RESEARCH)
    loaded = veilcv.load_policy(root=dirty / "data")
    assert isinstance(loaded, veilcv.LoadedPolicy)
    assert loaded.chain[1:] == ("pack:research", "pack:default") and loaded.chain[0].endswith("veil.yaml")
    assert veilcv.check(dirty / "data", policy=loaded).findings == ()  # research allows NC, VC105 off
    assert veilcv.check(dirty / "data").findings == ()  # found the same way without it
    assert veilcv.load_policy("strict").chain == ("pack:strict", "pack:default")
    assert veilcv.load_policy(root=dirty.parent).chain == ("pack:default",)  # no veil.yaml there


def test_per_file_mode_reports_only_those_files(dirty: Path) -> None:
    (dirty / "more").mkdir()
    (dirty / "more" / "manifest.csv").write_text(DIRTY.replace("a.png", "../data/a.png"))
    everything = veilcv.check(dirty)
    one = veilcv.check(dirty, files=[dirty / "data" / "manifest.csv"])
    assert {f.file for f in everything.findings} == {"data/manifest.csv", "more/manifest.csv"}
    assert {f.file for f in one.findings} == {"data/manifest.csv"}


def test_policy_problems_are_policy_errors_listing_every_issue(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "veil.yaml"
    bad.write_text("version: 1\nrules: {VC999: {enabled: false}}\nlicences: {allowed: [not a licence]}\n")
    with pytest.raises(PolicySchemaError) as info:
        veilcv.load_policy(bad)
    assert isinstance(info.value, PolicyError) and len(info.value.issues) == 2
    assert main(["policy", "validate", str(bad)]) == 2  # the command refuses it with the same lines
    err = capsys.readouterr().err
    assert all(f"veil: error: {issue}" in err for issue in info.value.issues)
    with pytest.raises(
        PolicyError, match="expected a policy file or a bundled pack .* did you mean 'strict'"
    ):
        veilcv.load_policy("strcit")


def test_bad_arguments(dirty: Path) -> None:
    with pytest.raises(
        ValidationError, match=r"only: expected targets among manifest, .*got \['manifests'\]"
    ):
        veilcv.check(dirty, only=["manifests"])
    with pytest.raises(ValidationError, match="got \\['manifest'\\]"):
        veilcv.check(dirty, only="manifest")  # a string is not a list of targets
    with pytest.raises(InputError, match="expected a folder to check, got nothing"):
        veilcv.check(dirty / "missing")
    with pytest.raises(InputError, match="nope.csv: expected a file or folder, got nothing there"):
        veilcv.check(dirty, files=[dirty / "nope.csv"])
