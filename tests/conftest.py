"""Shared test fixtures."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The development data folder; tests that use it skip cleanly when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Tests never read or write the user's veilcv cache (parse cache, policy records, kernel
    builds): a session folder stands in for it. The user's kernel build is copied in, so that no
    test run waits for a rebuild; a test that sets ``VEILCV_CACHE_DIR`` itself still wins."""
    from veilcv import cachedir

    root = tmp_path_factory.mktemp("veilcv-cache")
    kernels = cachedir.cache_root() / "kernels"
    if kernels.is_dir():
        shutil.copytree(kernels, root / "kernels", symlinks=True, dirs_exist_ok=True)
    patch = pytest.MonkeyPatch()
    patch.setenv("VEILCV_CACHE_DIR", str(root))
    yield root
    patch.undo()
