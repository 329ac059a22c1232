"""One list of the images veilcv redacts (``veilcv.core.defaults.IMAGE_SUFFIXES``); others derive from it.

Five modules once kept their own lists, and they disagreed (ingest refused HEIC that redact
handles; `veil check` protected GIF from being overwritten by a report but `meta` walked more).
"""

from __future__ import annotations

import ast
from pathlib import Path

import veilcv
from veilcv.core.defaults import IMAGE_SUFFIXES
from veilcv.core.detection import tune
from veilcv.core.metadata import METADATA_SUFFIXES

PACKAGE = Path(veilcv.__file__).resolve().parent
HOME = PACKAGE / "core" / "defaults.py"


def _suffix_lists(tree: ast.AST) -> list[tuple[int, str]]:
    """Literal collections (or space-separated strings) naming three or more of the image suffixes."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            names = {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names = set(node.value.split())
        else:
            continue
        if len(names & IMAGE_SUFFIXES) >= 3:
            found.append((node.lineno, ast.unparse(node)[:80]))
    return found


def test_no_module_but_defaults_writes_a_list_of_image_suffixes() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path != HOME:
            rel = path.relative_to(PACKAGE)
            lists = _suffix_lists(ast.parse(path.read_text()))
            offenders += [f"{rel}:{line}: {text}" for line, text in lists]
    assert offenders == []
    assert _suffix_lists(ast.parse(HOME.read_text()))  # the scan does find the one list


def test_narrower_and_wider_lists_derive_from_the_one_list() -> None:
    assert IMAGE_SUFFIXES <= METADATA_SUFFIXES  # the metadata walk sees every image veil redacts
    assert set(tune.IMAGE_SUFFIXES) == IMAGE_SUFFIXES - {".heic", ".heif"}  # what OpenCV decodes
