"""Higher layers import lower ones, never the reverse; shared helpers live outside any one rule family.

Once ``telemetry/gate.py`` (the runtime gate) imported the linter's telemetry classifier, and the
manifest reader and the telemetry rules imported a YAML helper from the storage rule family.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import veilcv

PACKAGE = Path(veilcv.__file__).resolve().parent
#: Layers that must not import the linter (it reads policies, the store's settings and telemetry kinds).
BELOW_LINTER = ("core", "policies", "store", "telemetry", "evaluation")
#: Per-run indexes a family builds once and shares with others through ``ctx.memo``: data, not helpers.
SHARED_INDEXES = {"veilcv.linter.rules.manifest.index", "veilcv.linter.rules.storage.model"}


def _imports(path: Path) -> list[tuple[int, str]]:
    out = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
    return out


@pytest.mark.parametrize("layer", BELOW_LINTER)
def test_lower_layers_never_import_the_linter(layer: str) -> None:
    found = [
        f"{path.relative_to(PACKAGE)}:{line}: {module}"
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for line, module in _imports(path)
        if module == "veilcv.linter" or module.startswith(("veilcv.linter.", "veilcv.cli"))
    ]
    assert found == []


def test_a_rule_family_imports_no_other_familys_helpers() -> None:
    rules = PACKAGE / "linter" / "rules"
    found = []
    for family in sorted(p for p in rules.iterdir() if p.is_dir() and not p.name.startswith("_")):
        own = f"veilcv.linter.rules.{family.name}"
        for path in sorted(family.rglob("*.py")):
            for line, module in _imports(path):
                other = module.startswith("veilcv.linter.rules.") and not module.startswith(own)
                if other and module not in SHARED_INDEXES:
                    found.append(f"{path.relative_to(PACKAGE)}:{line}: {module}")
    assert found == []
