"""The registry is the one source of truth: docs, hooks and rule metadata must not drift from it."""

from __future__ import annotations

import re
from pathlib import Path

import pathspec
import pytest
import yaml

from veilcv.linter import docs, registry
from veilcv.linter.finding import CATEGORIES, Severity
from veilcv.policies import load_policy

REPO = Path(__file__).resolve().parents[2]
HOOKS = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
VEIL_HOOKS = {h["id"]: h for h in HOOKS if h["entry"].startswith("veil check")}


def test_docs_rules_md_is_generated_from_the_registry() -> None:
    committed = (REPO / "docs" / "rules.md").read_text("utf-8")
    assert committed == docs.render(), (
        "docs/rules.md drifted: run `python -m veilcv.linter.docs docs/rules.md`"
    )


@pytest.mark.parametrize("rule", registry.all_rules(), ids=lambda r: r.id)
def test_rule_metadata_is_complete(rule) -> None:
    assert re.fullmatch(r"VC\d{3}", rule.id)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", rule.name), "kebab-case name of the anti-pattern"
    assert rule.category in CATEGORIES and isinstance(rule.severity, Severity)
    assert len(rule.rationale) >= 80 and len(rule.fix) >= 20
    assert rule.target in {"meta", *registry.targets()}
    assert f"### {rule.id} {rule.name}" in docs.render()


def test_id_ranges_belong_to_their_families() -> None:
    ranges = {
        "meta": "VC0",
        "manifest": "VC1",
        "storage": "VC2",
        "telemetry": "VC3",
        "repo": "VC4",
        "cross": "VC5",
    }
    for rule in registry.all_rules():
        assert rule.id.startswith(ranges[rule.target]), rule.id


def test_repo_wide_hook_runs_everything() -> None:
    hook = VEIL_HOOKS["veil-check"]
    assert hook["entry"] == "veil check" and hook["pass_filenames"] is False and hook["always_run"] is True


def test_every_per_file_target_has_a_hook_and_no_hook_names_an_unknown_target() -> None:
    per_file = {}
    for hook in VEIL_HOOKS.values():
        match = re.fullmatch(r"veil check --only (\w+)", hook["entry"])
        if match:
            per_file[match.group(1)] = hook
    assert set(per_file) <= set(registry.targets())
    # repo and cross rules need the whole tree; every other target can run on the changed files alone.
    assert set(per_file) == set(registry.targets()) - {"repo", "cross"}


@pytest.mark.parametrize(
    "name",
    [
        "manifest.csv",
        "data/manifest.jsonl",
        "a/b/manifest-v2.json",
        "x/set.manifest.csv",
        "croissant.json",
        "d/street.croissant.json",
    ],
)
def test_manifest_hook_matches_the_default_manifest_patterns(name: str) -> None:
    patterns = load_policy()["manifests"]["patterns"]
    assert pathspec.GitIgnoreSpec.from_lines(patterns).match_file(name)
    assert re.search(VEIL_HOOKS["veil-check-manifests"]["files"], name)


@pytest.mark.parametrize("name", ["photo.jpg", "notes/manifesto.txt", "data.csv"])
def test_manifest_hook_skips_other_files(name: str) -> None:
    assert not re.search(VEIL_HOOKS["veil-check-manifests"]["files"], name)


def test_veil_rules_lists_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    from veilcv.cli.main import main

    assert main(["rules", "--format", "json"]) == 0
    import json

    listed = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in listed] == [r.id for r in registry.all_rules()]
    assert main(["rules"]) == 0
    table = capsys.readouterr().out
    for rule in registry.all_rules():
        assert rule.id in table and rule.name in table
    assert main(["rules", "--format", "markdown"]) == 0
    assert capsys.readouterr().out == docs.render()


def test_cli_target_list_matches_the_registry():
    from veilcv.linter.finding import TARGETS

    assert registry.targets() == TARGETS
