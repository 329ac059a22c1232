"""Fixtures for the store tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from store.helpers import Clock, make_store, new_key
from veilcv.store import MasterKey, Store


@pytest.fixture
def key() -> MasterKey:
    return new_key()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, key: MasterKey, clock: Clock) -> Iterator[Store]:
    st = make_store(tmp_path / "vault", key, clock)
    yield st
    st.close()
