"""The bundled packs are the only place a policy default is written: code reads the effective policy.

Once the signed-URL maximum was 3600 s in the default pack and 900 s in the store and the storage
rules, raw retention 30 days in one and 7 in another, and ``keep_raw`` true in one and false in
another. Here the default pack is swapped for one with other values and every reader follows it,
and the readers are scanned for a default written beside a policy key.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
import yaml

import veilcv
from veilcv.linter.context import LintContext
from veilcv.linter.rules import storage
from veilcv.linter.rules.telemetry import settings as telemetry_settings
from veilcv.policies import load_policy, loader, with_defaults
from veilcv.store.policy import from_policy

PACKAGE = Path(veilcv.__file__).resolve().parent
#: Every module that reads policy values for the store, ingest, telemetry or the linter's families.
READERS = (
    "store/policy.py",
    "ingest.py",
    "telemetry/gate.py",
    "policies/licences.py",
    "linter/rules/storage/__init__.py",
    "linter/rules/telemetry/__init__.py",
    "linter/rules/manifest/__init__.py",
    "linter/rules/manifest/index.py",
)


def _keys(node: object) -> set[str]:
    if isinstance(node, dict):
        return {str(k) for k in node} | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


@pytest.fixture
def other_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    packs = tmp_path / "packs"
    shutil.copytree(loader.PACKS_DIR, packs)
    data = yaml.safe_load((packs / "default.yaml").read_text("utf-8"))
    data["storage"]["max_signed_url_seconds"] = 1234
    data["retention"]["keep_raw"] = True
    data["retention"]["prefixes"]["raw/"]["max_days"] = 3
    data["telemetry"]["min_aggregation_count"] = 17
    data["telemetry"]["forbidden"] = ["gps"]
    (packs / "default.yaml").write_text(yaml.safe_dump(data), "utf-8")
    monkeypatch.setattr(loader, "PACKS_DIR", packs)
    loader._base_policy.cache_clear()
    yield data
    loader._base_policy.cache_clear()


def test_the_default_pack_does_not_keep_raw_originals() -> None:
    policy = load_policy()
    assert policy["retention"]["keep_raw"] is False
    assert from_policy(None).keep_raw is False
    assert policy["retention"]["prefixes"]["raw/"]["max_days"] > 0  # for a project that opts in


def test_every_reader_follows_the_default_pack(tmp_path: Path, other_default: dict) -> None:
    store = from_policy({})
    assert (store.max_signed_seconds, store.keep_raw, store.prefixes["raw/"]) == (1234, True, 3)
    assert (store.min_aggregation_count, store.telemetry_forbidden) == (17, ("gps",))
    assert from_policy(None) == store
    assert telemetry_settings({})[1:] == ({"gps"}, 17)

    def signed_url_findings(seconds: int) -> list[str]:
        conf = tmp_path / f"b{seconds}" / "buckets.yaml"
        conf.parent.mkdir()
        conf.write_text(f"buckets:\n  - name: frames\n    signed_url_max_seconds: {seconds}\n")
        ctx = LintContext(conf.parent, {}, ["buckets.yaml"])
        return [f.rule_id for f in storage.check(ctx) if f.rule_id == "VC213"]

    assert signed_url_findings(1234) == []
    assert signed_url_findings(1235) == ["VC213"]


def test_a_policy_value_overrides_the_pack_and_the_rest_stays() -> None:
    merged = with_defaults({"storage": {"max_signed_url_seconds": 60}})
    assert merged["storage"]["max_signed_url_seconds"] == 60
    assert merged["storage"]["roles"] == load_policy()["storage"]["roles"]
    assert from_policy({"storage": {"max_signed_url_seconds": 60}}).max_signed_seconds == 60


@pytest.mark.parametrize("module", READERS)
def test_no_reader_writes_a_default_beside_a_policy_key(module: str) -> None:
    keys = _keys(load_policy()) - {"rules", "suppressions"}
    tree = ast.parse((PACKAGE / module).read_text("utf-8"))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get", "setdefault", "pop")
            and len(node.args) == 2
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in keys
            and not (isinstance(node.args[1], ast.Constant) and node.args[1].value is None)
        ):
            found.append(f"{module}:{node.lineno}: {ast.unparse(node)}")
    assert found == []
