"""The policy schema and loader: positive and negative examples, packs, extends, verbatim errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker

from veilcv.core.metadata import Family
from veilcv.errors import PolicyError
from veilcv.linter import registry
from veilcv.policies import PolicySchemaError, load_policy, load_policy_source
from veilcv.policies.loader import PACKS_DIR, bundled_packs, check_rule_ids, schema

EXAMPLES = Path(__file__).resolve().parent / "examples"
VALID = sorted(p.name for p in (EXAMPLES / "valid").glob("*.yaml"))
INVALID = sorted(p.stem for p in (EXAMPLES / "invalid").glob("*.errors"))
RULE_IDS = [r.id for r in registry.all_rules()]


def _load(folder: Path, name: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(folder)  # so that error lines name the file as the user typed it
    loaded = load_policy_source(name)
    check_rule_ids(loaded, RULE_IDS)
    return loaded


def test_schema_is_valid_draft_2020_12() -> None:
    Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_metadata_families_match_the_metadata_module() -> None:
    items = schema()["properties"]["metadata"]["properties"]["allowed_families"]["items"]["enum"]
    assert items == [f.value for f in Family]


@pytest.mark.parametrize("name", VALID)
def test_valid_examples_load(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _load(EXAMPLES / "valid", name, monkeypatch).data
    assert data["version"] == 1
    assert "extends" not in data
    # Defaults are filled: every section of the schema is present in the effective policy.
    assert set(schema()["properties"]) - {"extends"} <= set(data)


@pytest.mark.parametrize("name", INVALID)
def test_invalid_examples_report_every_error_verbatim(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    want = (EXAMPLES / "invalid" / f"{name}.errors").read_text("utf-8").splitlines()
    with pytest.raises(PolicySchemaError) as info:
        _load(EXAMPLES / "invalid", f"{name}.yaml", monkeypatch)
    assert [str(i) for i in info.value.issues] == want
    assert str(info.value).splitlines() == want


def test_every_invalid_example_has_expected_errors() -> None:
    yamls = {p.stem for p in (EXAMPLES / "invalid").glob("*.yaml")}
    assert yamls - set(INVALID) == {"cycle_b"}  # the other half of the cycle example


@pytest.mark.parametrize("pack", bundled_packs())
def test_bundled_packs_are_valid_and_complete(pack: str) -> None:
    data = load_policy(pack=pack)
    assert set(schema()["properties"]) - {"extends"} <= set(data)
    assert Draft202012Validator(schema()).is_valid(data)
    # Runs do not validate the packs (they are package data): this test is where each file is.
    raw = yaml.safe_load((PACKS_DIR / f"{pack}.yaml").read_text(encoding="utf-8"))
    assert list(Draft202012Validator(schema(), format_checker=FormatChecker()).iter_errors(raw)) == []


def test_a_check_without_a_policy_file_does_not_load_the_schema_machinery() -> None:
    code = (
        "import sys; from veilcv.policies.loader import load_policy_source; load_policy_source(None); "
        "print('jsonschema' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_users_policy_file_is_still_validated(tmp_path: Path) -> None:
    bad = tmp_path / "veil.yaml"
    bad.write_text("extends: default\nretention:\n  prefixes:\n    raw/: {max_days: -3}\n", encoding="utf-8")
    with pytest.raises(PolicySchemaError, match="veil.yaml:4"):
        load_policy_source(bad)


def test_packs_differ_where_they_say() -> None:
    default, strict, research = (load_policy(pack=p) for p in ("default", "strict", "research"))
    assert strict["retention"]["prefixes"]["raw/"] == {"max_days": 7}
    assert strict["storage"]["customer_managed_key"] is True
    assert strict["licences"]["allowed"] == ["CC0-1.0", "CC-BY-4.0", "MIT", "Apache-2.0"]
    assert "non_commercial" not in research["licences"]["denied_categories"]
    assert (
        research["retention"]["prefixes"]["raw/"]["max_days"]
        > default["retention"]["prefixes"]["raw/"]["max_days"]
    )
    # Sections a pack does not mention come from the default pack.
    assert strict["fairness"] == default["fairness"] == research["fairness"]


def test_extends_by_relative_path_deep_merges(monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = _load(EXAMPLES / "valid", "project.yaml", monkeypatch)
    assert loaded.chain == ("project.yaml", "team.yaml", "pack:research", "pack:default")
    prefixes = loaded.data["retention"]["prefixes"]
    assert prefixes["raw/"] == {"max_days": 3}  # project
    assert prefixes["exports/"] == {"max_days": 14}  # team
    assert prefixes["redacted/"] == {"max_days": 1095}  # research pack
    assert loaded.data["rules"] == {"VC106": {"severity": "medium"}, "VC403": {"severity": "low"}}
    assert loaded.source("retention", "prefixes", "raw/") == ("project.yaml", 5)


def test_full_example_keeps_dates_as_iso_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _load(EXAMPLES / "valid", "full.yaml", monkeypatch).data
    assert data["suppressions"][0]["until"] == "2027-01-31"
    json.dumps(data)  # a plain, JSON-serialisable dict


def test_default_without_arguments_is_the_default_pack() -> None:
    assert load_policy() == load_policy(pack="default")


def test_missing_file_and_both_arguments(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(tmp_path / "nope.yaml")
    assert (
        str(info.value)
        == f"{tmp_path / 'nope.yaml'}: expected a policy file, got nothing there; use `veil policy init`"
    )
    with pytest.raises(PolicyError, match="got both"):
        load_policy(tmp_path / "x.yaml", pack="strict")


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "veil.yaml").write_text("# nothing yet\n")
    with pytest.raises(PolicySchemaError) as info:
        load_policy(tmp_path / "veil.yaml")
    assert str(info.value) == f"{tmp_path / 'veil.yaml'}:1:1: $: expected a mapping, got an empty file"


def test_unreadable_policy_files_name_the_problem(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "pipe.yaml")  # reading it without a writer would block forever
    with pytest.raises(PolicyError, match=r"pipe.yaml: expected a policy file, got a special file"):
        load_policy(tmp_path / "pipe.yaml")
    with pytest.raises(PolicyError, match=r": expected a policy file, got a folder$"):
        load_policy(tmp_path)
    (tmp_path / "bin.yaml").write_bytes(b"version: 1\n\x89PNG\r\n")
    with pytest.raises(PolicyError) as info:
        load_policy(tmp_path / "bin.yaml")
    assert str(info.value) == (
        f"{tmp_path / 'bin.yaml'}: expected UTF-8 YAML text, got byte 0x89 at offset 11; "
        "save the policy as UTF-8"
    )


def _alias_bomb(first_line: str, levels: int = 9) -> str:
    lines = [first_line, 'l0: &l0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


def test_yaml_alias_bomb_and_self_reference_are_refused_fast(tmp_path: Path) -> None:
    (tmp_path / "bomb.yaml").write_text(_alias_bomb("version: 1"))  # 9**9 values once expanded
    with pytest.raises(PolicySchemaError) as info:
        load_policy(tmp_path / "bomb.yaml")
    assert str(info.value) == (
        f"{tmp_path / 'bomb.yaml'}:1:1: $: expected aliases to add at most 100000 YAML values, "
        "got more (an alias bomb?)"
    )
    (tmp_path / "cycle.yaml").write_text("version: 1\nx: &a [*a]\n")
    with pytest.raises(PolicySchemaError, match="got an alias that refers to itself"):
        load_policy(tmp_path / "cycle.yaml")


def test_a_few_aliases_are_fine(tmp_path: Path) -> None:
    (tmp_path / "veil.yaml").write_text(
        "version: 1\nretention:\n  prefixes:\n    raw/: &short {max_days: 7}\n    tmp/: *short\n"
    )
    prefixes = load_policy(tmp_path / "veil.yaml")["retention"]["prefixes"]
    assert prefixes["raw/"] == prefixes["tmp/"] == {"max_days": 7}


def test_incident_section_defaults_and_values(monkeypatch: pytest.MonkeyPatch) -> None:
    for pack in bundled_packs():  # packs name no people: every project lists its own contacts
        assert load_policy(pack=pack)["incident"] == {"contacts": [], "notify_within_hours": 72}
    data = _load(EXAMPLES / "valid", "full.yaml", monkeypatch).data
    assert data["incident"]["notify_within_hours"] == 24
    assert data["incident"]["contacts"][1] == {
        "role": "security on-call",
        "name": "Security rota",
        "email": "security+oncall@example.org",
    }


def test_earlier_spellings_of_the_storage_readings_keep_their_meaning(tmp_path) -> None:
    # encryption/lifecycle were required|optional before the Checkov-aligned readings: a policy
    # written then is read as the strict reading it asked for, not refused or weakened.
    from veilcv.policies.loader import load_policy

    p = tmp_path / "veil.yaml"
    p.write_text("version: 1\nstorage:\n  encryption: required\n  lifecycle: required\n")
    storage = load_policy(p)["storage"]
    assert storage["encryption"] == "declared" and storage["lifecycle"] == "expiring"
