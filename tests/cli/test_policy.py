"""`veil policy init | validate | explain`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from veilcv.cli.main import main
from veilcv.linter import registry
from veilcv.policies import load_policy


def test_init_writes_a_valid_policy_and_refuses_to_overwrite(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["policy", "init"]) == 0
    assert capsys.readouterr().out == "wrote veil.yaml (extends strict)\n"
    assert load_policy("veil.yaml") == load_policy(pack="strict")
    before = Path("veil.yaml").read_text()
    assert main(["policy", "init"]) == 2
    assert (
        capsys.readouterr().err
        == "veil: error: veil.yaml: expected a new file, got an existing one; use --force to overwrite\n"
    )
    assert Path("veil.yaml").read_text() == before
    assert main(["policy", "init", "--pack", "research", "--force"]) == 0
    assert load_policy("veil.yaml") == load_policy(pack="research")


def test_init_rejects_an_unknown_pack(tmp_path: Path, capsys) -> None:
    assert main(["policy", "init", str(tmp_path / "p.yaml"), "--pack", "lax"]) == 2
    assert (
        capsys.readouterr().err
        == "veil: error: --pack: expected one of default, research, strict, got 'lax'\n"
    )
    assert not (tmp_path / "p.yaml").exists()


def test_validate_ok_and_errors(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    Path("veil.yaml").write_text("version: 1\nextends: research\n")
    assert main(["policy", "validate"]) == 0
    assert capsys.readouterr().out == "veil.yaml: valid (extends pack:research -> pack:default)\n"
    Path("bad.yaml").write_text("version: 1\nfairness: {min_group_n: 0}\nrules: {VC999: {enabled: false}}\n")
    assert main(["policy", "validate", "bad.yaml"]) == 2
    assert (
        capsys.readouterr().err
        == "veil: error: bad.yaml:2:25: $.fairness.min_group_n: expected a number >= 1, got 0\n"
    )
    Path("bad.yaml").write_text("version: 1\nrules: {VC999: {enabled: false}}\n")
    assert main(["policy", "validate", "bad.yaml"]) == 2
    assert capsys.readouterr().err == (
        "veil: error: bad.yaml:2:1: $.rules.VC999: expected a known rule ID, got 'VC999'; see `veil rules`\n"
    )


def test_validate_without_a_policy_file(tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["policy", "validate"]) == 2
    assert (
        "expected a veil.yaml in this folder or one above it (up to the repository root), got none"
        in capsys.readouterr().err
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "data" / "raw").mkdir(parents=True)
    (root / "veil.yaml").write_text("version: 1\nextends: research\nrules: {VC403: {enabled: false}}\n")
    return root


def test_validate_and_explain_from_a_subfolder_use_the_repository_policy(
    repo: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(repo / "data" / "raw")
    shown = repo.resolve() / "veil.yaml"
    assert main(["policy", "validate"]) == 0
    assert capsys.readouterr().out == f"{shown}: valid (extends pack:research -> pack:default)\n"
    assert main(["policy", "explain"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"policy: {shown} (extends pack:research -> pack:default)"
    assert "disabled: VC403" in out.splitlines()
    assert main(["policy", "explain", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["policy"][0] == str(shown)


def test_policy_search_stops_at_the_repository_root(tmp_path: Path, repo: Path, monkeypatch, capsys) -> None:
    (tmp_path / "veil.yaml").write_text("version: 1\nextends: strict\n")  # outside the repository
    (repo / "veil.yaml").unlink()
    monkeypatch.chdir(repo / "data")
    assert main(["policy", "validate"]) == 2
    assert "got none" in capsys.readouterr().err
    assert main(["policy", "explain"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "policy: pack:default"


def test_explain_lists_enabled_rules_with_settings(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    Path("veil.yaml").write_text(
        "version: 1\nextends: strict\nrules: {VC403: {enabled: false}, VC105: {severity: critical}}\n"
    )
    assert main(["policy", "explain"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "policy: veil.yaml (extends pack:strict -> pack:default)"
    assert "VC110" in out and 'retention.prefixes={"raw/":{"max_days":7}' in out.replace("\n", "")
    assert "VC403" not in out.split("disabled:")[0]
    assert "disabled: VC403" in out.splitlines()
    assert main(["policy", "explain", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    rules = {r["id"]: r for r in doc["rules"]}
    assert rules["VC105"]["severity"] == "critical"
    assert rules["VC103"]["settings"]["licences.allowed"] == ["CC0-1.0", "CC-BY-4.0", "MIT", "Apache-2.0"]
    assert doc["disabled"] == ["VC403"]
    assert len(rules) == len(registry.all_rules()) - 1


def test_explain_a_pack(capsys) -> None:
    assert main(["policy", "explain", "--pack", "research", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["policy"] == ["pack:research", "pack:default"]


@pytest.mark.parametrize("command", ["init", "validate", "explain"])
def test_help_has_an_example(command: str, capsys) -> None:
    assert main(["policy", command, "--help"]) == 0
    assert "Example: veil policy" in capsys.readouterr().out


def test_unreadable_policy_files_are_one_line_errors(tmp_path: Path, monkeypatch, capsys) -> None:
    import os

    monkeypatch.chdir(tmp_path)
    os.mkfifo("pipe.yaml")  # would block forever if read
    Path("dir.yaml").mkdir()
    Path("latin1.yaml").write_bytes(b"version: 1\n# caf\xe9\n")
    expected = {
        "pipe.yaml": "pipe.yaml: expected a policy file, got a special file (FIFO, socket or device)",
        "dir.yaml": "dir.yaml: expected a policy file, got a folder",
        "latin1.yaml": "latin1.yaml: expected UTF-8 YAML text, got byte 0xe9 at offset 16; "
        "save the policy as UTF-8",
    }
    for name, message in expected.items():
        assert main(["policy", "validate", name]) == 2
        assert capsys.readouterr().err == f"veil: error: {message}\n"


def test_init_into_a_folder_or_an_unwritable_place(tmp_path: Path, capsys) -> None:
    assert main(["policy", "init", str(tmp_path), "--force"]) == 2
    assert capsys.readouterr().err == (
        f"veil: error: {tmp_path}: expected a file path, got a folder; use {tmp_path / 'veil.yaml'}\n"
    )
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    assert main(["policy", "init", str(blocker / "veil.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"veil: error: {blocker / 'veil.yaml'}: cannot write the policy: ")
    assert "internal error" not in err


def test_explain_an_unknown_pack(capsys) -> None:
    assert main(["policy", "explain", "--pack", "lax"]) == 2
    assert (
        capsys.readouterr().err
        == "veil: error: --pack: expected one of default, research, strict, got 'lax'\n"
    )


def test_group_help_has_an_example(capsys) -> None:
    assert main(["policy", "--help"]) == 0
    assert "Example: veil policy init" in capsys.readouterr().out


def test_invalid_spdx_ids_in_the_policy_are_errors(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    # A typo in `denied` would otherwise let every non-commercial licence through.
    Path("veil.yaml").write_text(
        "version: 1\nlicences:\n  allowed: [MIT, 'CC-BY-4.0 OR MIT', LicenseRef-acme, 'MIT AND']\n"
        "  denied: [CC-BY-NC-4]\nrules: {VC999: {enabled: false}}\n"
    )
    assert main(["policy", "validate"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "veil: error: veil.yaml:3:1: $.licences.allowed[3]: expected an SPDX licence expression such as "
        "CC-BY-4.0, got 'MIT AND' (AND requires two or more licenses as in: MIT AND BSD)",
        "veil: error: veil.yaml:4:1: $.licences.denied[0]: expected an SPDX licence expression such as "
        "CC-BY-4.0, got 'CC-BY-NC-4' (unknown SPDX licence ID CC-BY-NC-4)",
        "veil: error: veil.yaml:5:1: $.rules.VC999: expected a known rule ID, got 'VC999'; see `veil rules`",
    ]


def test_explain_shows_the_incident_contacts(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    Path("veil.yaml").write_text(
        "version: 1\nextends: strict\nincident:\n  contacts:\n"
        "    - {role: data protection officer, name: Privacy team, email: privacy@example.org}\n"
        "  notify_within_hours: 24\n"
    )
    assert main(["policy", "explain"]) == 0
    lines = capsys.readouterr().out.splitlines()
    at = lines.index("incident: notify within 24 hours; contacts:")
    assert lines[at + 1] == "  - data protection officer: Privacy team <privacy@example.org>"
    assert main(["policy", "explain", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["incident"]["contacts"][0]["email"] == "privacy@example.org"
    assert main(["policy", "explain", "--pack", "strict"]) == 0
    out = capsys.readouterr().out
    assert "incident: notify within 72 hours; contacts: none (list them under incident.contacts)" in out
    Path("veil.yaml").write_text(
        "version: 1\nincident:\n  contacts:\n    - {role: dpo, name: Jo, email: jo-at-example.org}\n"
    )
    assert main(["policy", "validate"]) == 2
    assert capsys.readouterr().err == (
        "veil: error: veil.yaml:4:36: $.incident.contacts[0].email: expected an e-mail address such as "
        "'privacy@example.org', got 'jo-at-example.org'\n"
    )
