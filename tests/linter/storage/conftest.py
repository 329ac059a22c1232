"""Helpers for the storage family tests: write a small tree, run the family, look at findings."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from veilcv.linter.context import LintContext
from veilcv.linter.finding import Finding
from veilcv.linter.rules import storage

# The brief's policy, spelled out so these tests do not depend on the bundled packs.
POLICY: dict[str, Any] = {
    "retention": {"prefixes": {"raw/": {"max_days": 7}, "redacted/": {"max_days": 90}}, "keep_raw": False},
    "storage": {
        "public_access": "forbidden",
        "guarded_public_grants": "report",
        "encryption": "declared",
        "customer_managed_key": False,
        "kms_key": "id_required",
        "versioning": "required",
        "access_logging": "required",
        "lifecycle": "expiring",
        "tls": "required",
        "max_signed_url_seconds": 900,
        "unredacted_prefixes": ["raw/", "quarantine/"],
        "roles": {
            "reader": {"prefixes": ["redacted/"]},
            "writer": {"prefixes": ["raw/", "redacted/", "quarantine/"]},
            "admin": {"prefixes": ["*"]},
        },
    },
}

Runner = Callable[..., tuple[list[Finding], LintContext]]


def run_storage(root: Path, files: dict[str, str], policy: dict[str, Any] | None = None):
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    ctx = LintContext(root, copy.deepcopy(policy or POLICY), sorted(files))
    return list(storage.check(ctx)), ctx


@pytest.fixture(autouse=True)
def _private_parse_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # Never read or fill the user's real cache from the tests.
    monkeypatch.setenv("VEILCV_CACHE_DIR", str(tmp_path_factory.mktemp("veilcv-cache")))
    monkeypatch.delenv("VEILCV_NO_CACHE", raising=False)


@pytest.fixture
def run(tmp_path: Path) -> Runner:
    def _run(files: dict[str, str], policy: dict[str, Any] | None = None):
        return run_storage(tmp_path, files, policy)

    return _run
