"""`veil check` end to end: exit codes, formats, output files, baselines, per-file mode, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from veilcv.cli.main import main

CLEAN_MANIFEST = "filename,source,license\na.png,https://example.org/a,CC0-1.0\n"


def _tree(root: Path, manifest: str) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "data" / "manifest.csv").write_text(manifest)
    Image.new("RGB", (4, 4)).save(root / "data" / "a.png")
    return root


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    return _tree(tmp_path / "clean", CLEAN_MANIFEST)


@pytest.fixture
def dirty(tmp_path: Path) -> Path:
    return _tree(tmp_path / "dirty", "filename,source,license,attribution\na.png,,CC-BY-NC-4.0,Jo Doe\n")


def test_clean_tree_exits_0(clean: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(clean)]) == 0
    assert capsys.readouterr().out == "policy: pack:default\n0 findings; 2 files checked\n"


def test_findings_exit_1_with_text_report(dirty: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(dirty)]) == 1
    out = capsys.readouterr().out
    assert "data/manifest.csv:2:1: VC103 high disallowed-licence" in out
    assert "data/manifest.csv:2:1: VC105 medium missing-source" in out
    assert out.splitlines()[-1] == "2 findings (1 high, 1 medium); 2 files checked"


def test_cwd_is_the_default_root(dirty: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(dirty)
    assert main(["check"]) == 1


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_machine_formats_to_an_output_file(dirty: Path, tmp_path: Path, fmt: str, capsys) -> None:
    out = tmp_path / "reports" / f"veil.{fmt}"
    assert main(["check", str(dirty), "--format", fmt, "--output", str(out)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("policy: pack:default\n2 findings")
    doc = json.loads(out.read_text())
    if fmt == "json":
        assert [(f["rule_id"], f["file"], f["line"]) for f in doc["findings"]] == [
            ("VC103", "data/manifest.csv", 2),
            ("VC105", "data/manifest.csv", 2),
        ]
    else:
        assert [r["ruleId"] for r in doc["runs"][0]["results"]] == ["VC103", "VC105"]


def test_policy_option_file_and_pack(dirty: Path, tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nextends: research\nrules: {VC105: {enabled: false}}\n")
    assert main(["check", str(dirty), "--policy", str(policy)]) == 0  # research allows NC, VC105 off
    assert main(["check", str(dirty), "--policy", "research"]) == 1
    (dirty / "veil.yaml").write_text(policy.read_text())  # discovered in the root
    assert main(["check", str(dirty)]) == 0


RESEARCH = "version: 1\nextends: research\nrules: {VC105: {enabled: false}}\n"  # dirty passes under it


@pytest.fixture
def repo(dirty: Path) -> Path:
    """A repository (``.git``) whose root holds veil.yaml; the data sits in a subfolder."""
    (dirty / ".git").mkdir()
    (dirty / "veil.yaml").write_text(RESEARCH)
    return dirty


def test_folder_below_the_policy_uses_it(repo: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(repo)
    assert main(["check", "data"]) == 0  # not pack:default, which would report the NC licence
    assert capsys.readouterr().out.splitlines()[0] == (
        "policy: veil.yaml (extends pack:research -> pack:default)"
    )
    assert main(["check", "data/manifest.csv"]) == 0  # per-file mode finds the same policy
    assert capsys.readouterr().out.splitlines()[0].startswith("policy: veil.yaml ")


def test_subfolder_as_working_folder_finds_the_policy_above(repo: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(repo / "data")
    assert main(["check"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == f"policy: {repo.resolve() / 'veil.yaml'} (extends pack:research -> pack:default)"


def test_search_stops_at_the_repository_root(tmp_path: Path, capsys) -> None:
    outer = tmp_path / "outer"
    inner = _tree(outer / "project", "filename,source,license,attribution\na.png,,CC-BY-NC-4.0,Jo Doe\n")
    (outer / "veil.yaml").write_text(RESEARCH)  # above the repository: not this project's policy
    (inner / ".git").mkdir()
    assert main(["check", str(inner / "data")]) == 1
    assert capsys.readouterr().out.splitlines()[0] == "policy: pack:default"
    (inner / ".git").rmdir()  # no repository: the search goes on up and finds it
    assert main(["check", str(inner / "data")]) == 0


def test_output_file_names_the_policy_on_stderr(repo: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(repo)
    assert main(["check", "data", "--format", "json", "--output", str(tmp_path / "r.json")]) == 0
    assert capsys.readouterr().err.splitlines()[0] == (
        "policy: veil.yaml (extends pack:research -> pack:default)"
    )
    assert json.loads((tmp_path / "r.json").read_text())["policy"] == [
        "veil.yaml",
        "pack:research",
        "pack:default",
    ]


def test_baseline_round_trip(dirty: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = tmp_path / "veil-baseline.json"
    assert main(["check", str(dirty), "--write-baseline", str(base)]) == 0
    assert "wrote 2 fingerprints" in capsys.readouterr().err
    assert main(["check", str(dirty), "--baseline", str(base)]) == 0
    assert capsys.readouterr().out == "policy: pack:default\n0 findings; 2 files checked, 2 in baseline\n"
    (dirty / "data" / "manifest.csv").write_text(
        "filename,source,license,attribution\na.png,,CC-BY-NC-4.0,Jo Doe\nb.png,x,,\n"
    )
    assert main(["check", str(dirty), "--baseline", str(base), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [(f["rule_id"], f["line"]) for f in doc["findings"]] == [("VC101", 3), ("VC106", 3)]
    assert doc["summary"]["baselined"] == 2


def test_per_file_mode(dirty: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(dirty)
    assert main(["check", "data/a.png", "--only", "manifest"]) == 0
    assert main(["check", "data/manifest.csv", "--only", "manifest"]) == 1
    assert "1 file checked" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--only", "nosuch"],
            "veil: error: --only: expected one of manifest, storage, telemetry, repo, cross, got nosuch",
        ),
        (
            ["--policy", "missing.yaml"],
            "veil: error: missing.yaml: expected a policy file, got nothing there; use `veil policy init`",
        ),
        (
            ["--baseline", "none.json"],
            "veil: error: none.json: expected a baseline file, got nothing there; use --write-baseline",
        ),
        (["ghost.tf", "other.tf"], "veil: error: ghost.tf: expected a file or folder, got nothing there"),
    ],
)
def test_usage_and_config_errors_exit_2(
    clean: Path, monkeypatch, capsys, args: list[str], message: str
) -> None:
    monkeypatch.chdir(clean)
    assert main(["check", *args]) == 2
    assert capsys.readouterr().err.strip() == message


def test_invalid_policy_lists_every_error_and_writes_nothing(clean: Path, tmp_path: Path, capsys) -> None:
    policy = tmp_path / "bad.yaml"
    policy.write_text("version: 2\nretention: {keep_raw: maybe}\n")
    out = tmp_path / "out.json"
    assert main(["check", str(clean), "--policy", str(policy), "--output", str(out), "-f", "json"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"veil: error: {policy}:1:10: $.version: expected 1, got 2",
        f"veil: error: {policy}:2:23: $.retention.keep_raw: "
        "expected a boolean (true or false), got string 'maybe'",
    ]
    assert not out.exists()


def test_bad_format_is_a_usage_error(clean: Path, capsys) -> None:
    assert main(["check", str(clean), "--format", "xml"]) == 2


def test_console_script(dirty: Path) -> None:
    veil = Path(sys.executable).with_name("veil")
    proc = subprocess.run([str(veil), "check", str(dirty), "-f", "json"], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["summary"]["findings"] == 2


def test_unknown_bare_policy_name_suggests_a_pack(clean: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(clean)
    assert main(["check", "--policy", "strcit"]) == 2
    assert capsys.readouterr().err == (
        "veil: error: strcit: expected a policy file or a bundled pack (default, research, strict), "
        "got neither; did you mean 'strict'?\n"
    )


@pytest.mark.parametrize("flag", ["--output", "--write-baseline"])
def test_output_paths_that_are_folders_fail_before_checking(
    dirty: Path, tmp_path: Path, capsys, flag: str
) -> None:
    assert main(["check", str(dirty), flag, str(tmp_path)]) == 2
    out = capsys.readouterr()
    assert out.err == f"veil: error: {flag} {tmp_path}: expected a file path, got a folder\n"
    assert out.out == ""


def test_unwritable_report_and_baseline_are_one_line_errors(dirty: Path, tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder is needed")
    assert main(["check", str(dirty), "-f", "sarif", "--output", str(blocker / "r.sarif")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"veil: error: --output {blocker / 'r.sarif'}: cannot write the report: ")
    assert len(err.splitlines()) == 1 and "internal error" not in err
    assert main(["check", str(dirty), "--write-baseline", str(blocker / "b.json")]) == 2
    out = capsys.readouterr()
    assert out.err.startswith(f"veil: error: {blocker / 'b.json'}: cannot write the baseline: ")
    assert out.out == ""  # the report is not printed before the failed write


def test_a_fifo_in_the_tree_is_skipped_and_listed(clean: Path, capsys) -> None:
    import os

    os.mkfifo(clean / "data" / "events.jsonl")
    assert main(["check", str(clean), "-f", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["skipped"] == [
        {"file": "data/events.jsonl", "reason": "not a regular file (FIFO, socket or device)"}
    ]


def test_non_utf8_file_names_do_not_crash_any_format(clean: Path, tmp_path: Path, capsys) -> None:
    import os

    name = os.fsdecode(b"caf\xe9.png")  # a Latin-1 name on a UTF-8 system: a lone surrogate in Python
    Image.new("RGB", (4, 4)).save(clean / "data" / name, format="PNG")
    for fmt in ("text", "json", "sarif"):
        out = tmp_path / f"report.{fmt}"
        assert main(["check", str(clean), "-f", fmt, "-o", str(out)]) == 1, capsys.readouterr().err
        assert b"caf" in out.read_bytes()
    assert '"uri": "data/caf%E9.png"' in (tmp_path / "report.sarif").read_text()
    assert "data/caf\\xe9.png:1:1: VC" in (tmp_path / "report.text").read_text()  # shown as `ls -b` does
    assert main(["check", str(clean), "--write-baseline", str(tmp_path / "b.json")]) == 0
    assert main(["check", str(clean), "--baseline", str(tmp_path / "b.json")]) == 0
    assert "internal error" not in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--output", "--write-baseline"])
def test_report_over_a_checked_input_is_refused(dirty: Path, capsys, flag: str) -> None:
    manifest = dirty / "data" / "manifest.csv"
    before = manifest.read_bytes()
    assert main(["check", str(dirty), flag, str(manifest)]) == 2
    assert capsys.readouterr().err == (
        f"veil: error: {flag} {manifest}: expected a report path, got an existing .csv file the check "
        "reads; use a new name such as veil.sarif\n"
    )
    assert manifest.read_bytes() == before


BROKEN_TF = 'resource "aws_s3_bucket" "frames" {\n  bucket = "acme-frames"\n  acl    =\n}\n'


def test_unparseable_terraform_fails_the_check(clean: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    (clean / "infra").mkdir()
    (clean / "infra" / "main.tf").write_text(BROKEN_TF)
    monkeypatch.chdir(clean)
    assert main(["check", "infra/main.tf", "--only", "storage"]) == 1
    out = capsys.readouterr().out
    assert "  infra/main.tf:3:" in out and "VC004 high unparseable-config: cannot parse Terraform: " in out
    assert "skipped" not in out
    assert main(["check", "-f", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["skipped"] == []
    assert [(f["rule_id"], f["file"], f["line"]) for f in doc["findings"]] == [("VC004", "infra/main.tf", 3)]


@pytest.mark.skipif(not Path(sys.executable).with_name("pre-commit").exists(), reason="no pre-commit")
def test_storage_pre_commit_hook_blocks_an_unparseable_tf(tmp_path: Path) -> None:
    import os
    import shutil

    import yaml

    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo_root = Path(__file__).resolve().parents[2]
    hook = next(
        h
        for h in yaml.safe_load((repo_root / ".pre-commit-hooks.yaml").read_text())
        if h["id"] == "veil-check-storage"
    )
    hook = {k: v for k, v in hook.items() if k != "description"} | {"language": "system"}
    root = tmp_path / "repo"
    (root / "infra").mkdir(parents=True)
    (root / ".pre-commit-config.yaml").write_text(
        yaml.safe_dump({"repos": [{"repo": "local", "hooks": [hook]}]})
    )
    (root / "veil.yaml").write_text("version: 1\nextends: default\n")
    (root / "infra" / "main.tf").write_text(BROKEN_TF)
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=300)

    run("git", "init", "-q")
    run("git", "add", "-A")
    result = run(str(bin_dir / "pre-commit"), "run", "--files", "infra/main.tf")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "infra/main.tf:3:" in result.stdout and "VC004" in result.stdout
