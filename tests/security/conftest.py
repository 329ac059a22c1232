"""Fixtures for the attack suite: a store with two objects that an attacker's edits target."""

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
    st.put("redacted/a.jpg", b"redacted A", role="writer", actor="t", subject="S1")
    st.put("raw/b.jpg", b"RAW B face", role="writer", actor="t", subject="S2")
    yield st
    st.close()
