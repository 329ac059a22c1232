"""Fixtures for the ingest tests: a small licensed dataset with a manifest, a key and a store path."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from store.helpers import jpeg_bytes, new_key

from veilcv.store import MasterKey


@dataclass
class Dataset:
    src: Path
    manifest: Path
    originals: dict[str, bytes]  # relative name -> bytes, for every file
    good: list[str]  # files a default policy accepts


def make_dataset(root: Path, n_good: int = 4, size: tuple[int, int] = (48, 64)) -> Dataset:
    src = root / "src"
    (src / "cam2").mkdir(parents=True)
    originals: dict[str, bytes] = {}
    rows = ["filename,source,license,attribution,subject_id,sha256"]
    good = []
    for i in range(n_good):
        name = f"cam1_{i}.jpg" if i % 2 == 0 else f"cam2/img_{i}.jpg"
        originals[name] = jpeg_bytes(i, size)
        rows.append(f"{name},https://example.org/{i},CC-BY-4.0,Example Photographer,S{i % 2},")
        good.append(name)
    originals["nc.jpg"] = jpeg_bytes(100)
    rows.append("nc.jpg,https://example.org/nc,CC-BY-NC-4.0,Someone,S9,")
    originals["bad_spdx.jpg"] = jpeg_bytes(101)
    rows.append("bad_spdx.jpg,https://example.org/b,Free-For-All,,S9,")
    originals["tampered.jpg"] = jpeg_bytes(102)
    rows.append(f"tampered.jpg,https://example.org/t,CC0-1.0,,S9,{hashlib.sha256(b'other').hexdigest()}")
    originals["unlisted.jpg"] = jpeg_bytes(103)
    originals["notes.txt"] = b"not an image"
    rows.append("notes.txt,https://example.org/n,CC0-1.0,,S9,")
    for name, data in originals.items():
        (src / name).write_bytes(data)
    manifest = src / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n")
    return Dataset(src, manifest, originals, good)


@pytest.fixture
def dataset(tmp_path: Path) -> Dataset:
    return make_dataset(tmp_path)


@pytest.fixture
def key() -> MasterKey:
    return new_key()
